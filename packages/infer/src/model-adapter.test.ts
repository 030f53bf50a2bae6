import { DecoderLM, getPreset } from '@lmkit/model';
import { tensor } from '@lmkit/tensor';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../test/bigram-lm.js';
import { generateText } from './generate.js';
import { fromDecoderLM } from './model-adapter.js';

function tinyModel(seed = 1): DecoderLM {
  return new DecoderLM({ ...getPreset('tiny'), vocab_size: 257 } as never, { seed });
}

describe('fromDecoderLM', () => {
  it('last-position logits equal the full forward, with and without the cache', () => {
    const model = tinyModel();
    const runner = fromDecoderLM(model);
    const ids = Int32Array.from([5, 9, 200, 17, 3]);
    const full = model.forward(tensor(ids, [1, ids.length], { dtype: 'i32' })).data() as Float32Array;
    const Vp = model.spec.vocabSize;
    const lastRef = full.subarray((ids.length - 1) * Vp, (ids.length - 1) * Vp + 257);
    const noCache = runner.nextLogits(ids, null);
    const cache = runner.newCache();
    runner.nextLogits(ids.subarray(0, 3), cache);
    const cached = runner.nextLogits(ids.subarray(3), cache);
    for (let v = 0; v < 257; v++) {
      expect(noCache[v]).toBeCloseTo(lastRef[v], 4);
      expect(cached[v]).toBeCloseTo(lastRef[v], 4);
    }
    const all = runner.logitsAll(ids);
    expect(all.length).toBe(ids.length * 257);
    expect(all[(ids.length - 1) * 257 + 7]).toBeCloseTo(lastRef[7], 4);
  });
  it('greedy generation is identical with and without the KV cache', async () => {
    const runner = fromDecoderLM(tinyModel(3));
    const a = await generateText(runner, byteTokenizer, 'Hello', { max_new_tokens: 24, do_sample: false });
    const b = await generateText(runner, byteTokenizer, 'Hello', { max_new_tokens: 24, do_sample: false, use_cache: false });
    expect(a.stats.completionTokens).toBe(24);
    expect(a.text).toBe(b.text);
  });
  it('quantized logits stay close to f32 (q8_0 within 2% of the logit range, q4_0 within 10%)', () => {
    const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const ref = fromDecoderLM(tinyModel(5)).nextLogits(ids, null);
    const range = Math.max(...ref) - Math.min(...ref);
    for (const [format, tol] of [['q8_0', 0.02], ['q4_0', 0.1]] as const) {
      const q = fromDecoderLM(tinyModel(5), { quantization: format }).nextLogits(ids, null);
      let maxErr = 0;
      for (let v = 0; v < ref.length; v++) maxErr = Math.max(maxErr, Math.abs(q[v] - ref[v]));
      expect(maxErr / range, format).toBeLessThan(tol);
    }
  });
});
