import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecoderLM, type ModelConfig } from '@lmkit/model';
import { scope, tensor } from '@lmkit/tensor';
import { evaluate } from '../eval.js';
import { fromDecoderLM } from '../model-adapter.js';
import { quantize } from './formats.js';
import { loadGgufModel, saveGgufModel } from './gguf-model.js';
import { gptqQuantize } from './gptq.js';

/** Byte-level text from a small seeded grammar: train and held-out sets share the distribution, not the text. */
function corpus(sentences: number, seed: number): Uint8Array {
  const subjects = ['the cat', 'a dog', 'my old friend', 'the quiet river', 'every child', 'our neighbour'];
  const verbs = ['sees', 'follows', 'remembers', 'paints', 'carries', 'finds'];
  const objects = ['the red ball', 'a small boat', 'the morning light', 'an open door', 'the long road', 'a green hill'];
  let s = seed >>> 0;
  const pick = <T>(xs: T[]) => xs[((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) % xs.length];
  let text = '';
  for (let i = 0; i < sentences; i++) text += `${pick(subjects)} ${pick(verbs)} ${pick(objects)}. `;
  return new TextEncoder().encode(text);
}

const config = { model_type: 'gpt2', vocab_size: 256, n_positions: 64, n_embd: 64, n_layer: 2, n_head: 2, n_inner: 128, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, tie_word_embeddings: false } as ModelConfig;
const train = corpus(600, 1);
const heldOut = corpus(200, 2);

/** 150 Adam steps (16 × 64 bytes) on the byte corpus: perplexity ≈ 1.5, where q4_0 rounding clearly costs. */
function trainModel(steps: number): DecoderLM {
  const model = new DecoderLM(config, { seed: 3 });
  model.train();
  const params = model.parameters();
  const m = params.map((p) => new Float32Array(p.size));
  const v = params.map((p) => new Float32Array(p.size));
  const B = 16;
  const T = 64;
  let seed = 7;
  for (let step = 1; step <= steps; step++) {
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const start = (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % (train.length - T - 1);
      for (let t = 0; t < T; t++) (ids[b * T + t] = train[start + t]), (targets[b * T + t] = train[start + t + 1]);
    }
    scope(() => {
      model.loss(tensor(ids, [B, T], { dtype: 'i32' }), tensor(targets, [B, T], { dtype: 'i32' })).backward();
      params.forEach((p, i) => {
        if (!p.grad) return;
        const g = p.grad.data() as Float32Array;
        const w = Float32Array.from(p.data() as Float32Array);
        for (let k = 0; k < w.length; k++) {
          m[i][k] = 0.9 * m[i][k] + 0.1 * g[k];
          v[i][k] = 0.999 * v[i][k] + 0.001 * g[k] * g[k];
          w[k] -= (3e-3 * (m[i][k] / (1 - 0.9 ** step))) / (Math.sqrt(v[i][k] / (1 - 0.999 ** step)) + 1e-8);
        }
        p.write(w);
        p.zeroGrad();
      });
    });
  }
  model.eval();
  return model;
}

function copyOf(model: DecoderLM): DecoderLM {
  const copy = new DecoderLM(model.config, { skipInit: true });
  for (const [name, p] of model.namedParameters()) copy.setParameter(name, tensor(Float32Array.from(p.data() as Float32Array), [...p.shape]));
  return copy;
}

const perplexity = (model: DecoderLM, options: Parameters<typeof fromDecoderLM>[1] = {}) =>
  evaluate(fromDecoderLM(model, options), heldOut, { windowSize: 64, maxTokens: 2048, progress: 'silent' }).perplexity;

describe('gptqQuantize on a small trained model', () => {
  let trained: DecoderLM;
  beforeAll(() => {
    trained = trainModel(150);
  });

  it('q4_0: GPTQ perplexity on held-out text is at most round-to-nearest’s (both through GGUF files)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmkit-gptq-'));
    const f32 = perplexity(copyOf(trained));
    await saveGgufModel(copyOf(trained), join(dir, 'rtn.gguf'), 'q4_0');
    const rtnFile = await loadGgufModel(join(dir, 'rtn.gguf'));
    const rtn = perplexity(rtnFile.model, { prequantized: rtnFile.quantized });
    const model = copyOf(trained);
    const result = gptqQuantize(model, train, { format: 'q4_0', samples: 32, seqLen: 64, progress: 'silent' });
    await saveGgufModel(model, join(dir, 'gptq.gguf'), 'q4_0');
    const gptqFile = await loadGgufModel(join(dir, 'gptq.gguf'));
    const gptq = perplexity(gptqFile.model, { prequantized: gptqFile.quantized });
    // Measured here: f32 1.495, round-to-nearest 1.529, GPTQ 1.515.
    expect(f32).toBeLessThan(2); // it learned the grammar (a uniform byte model is 256)
    expect(rtn).toBeGreaterThan(f32 * 1.005);
    expect(gptq).toBeLessThanOrEqual(rtn);
    expect(result.layers.map((l) => l.name)).toEqual(['blocks.0.attn.qkv', 'blocks.0.attn.proj', 'blocks.0.mlp.fc', 'blocks.0.mlp.proj', 'blocks.1.attn.qkv', 'blocks.1.attn.proj', 'blocks.1.mlp.fc', 'blocks.1.mlp.proj', 'head']);
    expect(result.layers.every((l) => l.method === 'gptq' && l.tokens === 32 * 64)).toBe(true);
  });

  it('the GGUF file holds exactly the GPTQ codes and loads back with the same perplexity', async () => {
    const model = copyOf(trained);
    const result = gptqQuantize(model, train, { format: 'q8_0', samples: 8, seqLen: 64, progress: 'silent' });
    const path = join(mkdtempSync(join(tmpdir(), 'lmkit-gptq-')), 'model.gguf');
    await saveGgufModel(model, path, 'q8_0');
    const loaded = await loadGgufModel(path);
    for (const [name, q] of result.quantized) {
      const back = loaded.quantized.get(name)!;
      expect(Array.from(back.scales), name).toEqual(Array.from(q.scales));
      expect(Array.from(back.qs), name).toEqual(Array.from(q.qs));
    }
    const direct = perplexity(model, { prequantized: result.quantized });
    expect(perplexity(loaded.model, { prequantized: loaded.quantized })).toBeCloseTo(direct, 4);
  });
});

describe('gptqQuantize', () => {
  it('a LLaMA shape (RoPE rows permuted in GGUF, tied head) keeps its codes through the file', async () => {
    const model = new DecoderLM({ model_type: 'llama', vocab_size: 256, max_position_embeddings: 64, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true } as ModelConfig, { seed: 5 });
    const result = gptqQuantize(model, train.subarray(0, 1000), { format: 'q4_0', samples: 4, seqLen: 32, progress: 'silent' });
    expect(result.layers.at(-1)).toMatchObject({ name: 'head', method: 'gptq', rows: 256, cols: 64 }); // the tied matrix, last, on final-norm outputs
    const path = join(mkdtempSync(join(tmpdir(), 'lmkit-gptq-')), 'model.gguf');
    await saveGgufModel(model, path, 'q4_0');
    const loaded = await loadGgufModel(path);
    for (const [name, q] of result.quantized) {
      expect(Array.from(loaded.quantized.get(name)!.qs), name).toEqual(Array.from(q.qs));
      expect(Array.from(loaded.quantized.get(name)!.scales), name).toEqual(Array.from(q.scales));
    }
  });
  it("tiedHead: 'rtn' keeps a tied embedding/head round-to-nearest", () => {
    const model = new DecoderLM({ ...config, tie_word_embeddings: true } as ModelConfig, { seed: 1 });
    const before = Float32Array.from(model.embed.weight.data() as Float32Array);
    const result = gptqQuantize(model, train.subarray(0, 500), { format: 'q4_0', samples: 2, seqLen: 16, tiedHead: 'rtn', progress: 'silent' });
    expect(result.layers[0]).toMatchObject({ name: 'head', method: 'rtn' });
    expect(Array.from(result.quantized.get('head')!.qs)).toEqual(Array.from(quantize(before, 256, 64, 'q4_0').qs));
  });
  it('rejects calibration tokens outside the vocabulary, naming the position', () => {
    const model = new DecoderLM(config, { seed: 1 });
    expect(() => gptqQuantize(model, [1, 2, 300, 4], { progress: 'silent' })).toThrow(/calibration token 300 at position 2 is outside the vocabulary/);
  });
  it('uses round-to-nearest for the embedding so the calibration sees what the file stores', () => {
    const model = new DecoderLM(config, { seed: 1 });
    const before = Float32Array.from(model.embed.weight.data() as Float32Array);
    gptqQuantize(model, train.subarray(0, 500), { format: 'q4_0', samples: 2, seqLen: 16, progress: 'silent' });
    const expected = quantize(before, 256, 64, 'q4_0');
    const after = quantize(model.embed.weight.data() as Float32Array, 256, 64, 'q4_0');
    expect(Array.from(after.qs)).toEqual(Array.from(expected.qs));
  });
});
