// Tests of batched generation: each prompt's output equals generating it alone, one forward per step, per-sequence stopping.
import { DecoderLM, getPreset } from '@lmkit/model';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../test/bigram-lm.js';
import { resolveGenerationConfig, type GenerationConfig } from './config.js';
import { generate, generateText } from './generate.js';
import { generateBatch, generateBatchText, generateBatchTokens, type BatchChunk } from './generate-batch.js';
import { fromDecoderLM, type ModelRunner } from './model-adapter.js';

const models = {
  'gpt2 (learned positions)': () => new DecoderLM({ ...getPreset('tiny'), vocab_size: 257 } as never, { seed: 3 }),
  'llama (RoPE, GQA)': () => new DecoderLM({
    model_type: 'llama', vocab_size: 257, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 96,
  }, { seed: 4 }),
} as const;

const prompts = ['Hello there', 'Hi', 'The quick brown fox'];

/** Counts the runner's forward calls and records each batched call's batch size. */
function counted(runner: ModelRunner): { runner: ModelRunner; calls: { single: number; batch: number }; sizes: number[] } {
  const calls = { single: 0, batch: 0 };
  const sizes: number[] = [];
  const wrapped: ModelRunner = {
    ...runner,
    nextLogits: (ids, cache) => (calls.single++, runner.nextLogits(ids, cache)),
    nextLogitsBatch: (ids, b, mask, cache) => (calls.batch++, sizes.push(b), runner.nextLogitsBatch(ids, b, mask, cache)),
  };
  return { runner: wrapped, calls, sizes };
}

async function alone(runner: ModelRunner, configs: GenerationConfig[]): Promise<Array<{ text: string; finishReason: string }>> {
  const out = [];
  for (let i = 0; i < prompts.length; i++) out.push(await generateText(runner, byteTokenizer, prompts[i]!, configs[i]!));
  return out.map(({ text, finishReason }) => ({ text, finishReason }));
}

describe('generateBatch', () => {
  for (const [name, make] of Object.entries(models)) {
    it(`greedy: each prompt of different lengths gives what it gives alone, through one forward per step (${name})`, async () => {
      const base = fromDecoderLM(make());
      const { runner, calls } = counted(base);
      const config = { max_new_tokens: 12, do_sample: false };
      const batch = await generateBatchText(runner, byteTokenizer, prompts, config);
      expect(calls).toEqual({ single: 0, batch: 12 });
      const expected = await alone(base, prompts.map(() => config));
      expect(batch.map(({ text, finishReason }) => ({ text, finishReason }))).toEqual(expected);
      expect(batch.map((r) => r.stats.completionTokens)).toEqual([12, 12, 12]);
      expect(batch.map((r) => r.stats.promptTokens)).toEqual(prompts.map((p) => p.length));
    });
  }

  it('each sequence stops on its own (stop string, eos, max_new_tokens); a finished one emits nothing more', async () => {
    const runner = fromDecoderLM(models['gpt2 (learned positions)']());
    const free = await alone(runner, prompts.map(() => ({ max_new_tokens: 16, do_sample: false })));
    const freeIds: number[] = [];
    for await (const c of generate(runner, byteTokenizer, prompts[1]!, { max_new_tokens: 16, do_sample: false })) if (c.tokenId !== undefined) freeIds.push(c.tokenId);
    // Prompt 0 stops at a string seen in its free output, prompt 1 at the eos id of its 4th token, prompt 2 after 5 tokens.
    const stop = free[0]!.text.slice(3, 5);
    const eos = freeIds[3]!;
    const configs: GenerationConfig[] = [
      { max_new_tokens: 16, do_sample: false, stop: [stop] },
      { max_new_tokens: 16, do_sample: false, eos_token_id: eos },
      { max_new_tokens: 5, do_sample: false },
    ];
    const chunks: BatchChunk[] = [];
    const { runner: probe, sizes } = counted(runner);
    for await (const c of generateBatch(probe, byteTokenizer, prompts, configs)) chunks.push(c);
    const expected = await alone(runner, configs);
    for (let i = 0; i < prompts.length; i++) {
      const mine = chunks.filter((c) => c.index === i);
      expect(mine.map((c) => c.text).join('')).toBe(expected[i]!.text);
      expect(mine.at(-1)!.finishReason).toBe(expected[i]!.finishReason);
      expect(mine.filter((c) => c.finishReason !== undefined)).toHaveLength(1); // nothing after its last chunk
    }
    expect(expected.map((e) => e.finishReason)).toEqual(['stop', 'stop', 'length']);
    // Finished sequences leave the batch: sizes only shrink, down to the last one running.
    expect(sizes[0]).toBe(3);
    expect(sizes.at(-1)).toBe(1);
    expect(sizes.every((b, i) => i === 0 || b <= sizes[i - 1]!)).toBe(true);
    expect(expected[0]!.text.length).toBeLessThan(free[0]!.text.length);
    const decoder = byteTokenizer.createDecoder();
    expect(expected[1]!.text).toBe(decoder.push(freeIds.slice(0, freeIds.indexOf(eos))) + decoder.flush());
  });

  it('seeded sampling is reproducible per sequence and matches each prompt sampled alone', async () => {
    const runner = fromDecoderLM(models['llama (RoPE, GQA)']());
    const configs = prompts.map((_, i) => ({ max_new_tokens: 10, temperature: 1.3, top_k: 0, seed: 40 + i }));
    const a = await generateBatchText(runner, byteTokenizer, prompts, configs);
    const b = await generateBatchText(runner, byteTokenizer, prompts, configs);
    expect(a.map((r) => r.text)).toEqual(b.map((r) => r.text));
    expect(a.map((r) => r.text)).toEqual((await alone(runner, configs)).map((r) => r.text));
    // One config for all: sequence i is seeded with seed + i, so copies of a prompt differ, reproducibly.
    const shared = await generateBatchText(runner, byteTokenizer, [prompts[0]!, prompts[0]!], { max_new_tokens: 10, temperature: 1.3, top_k: 0, seed: 40 });
    expect(shared[0]!.text).toBe(a[0]!.text);
    expect(shared[1]!.text).toBe((await generateText(runner, byteTokenizer, prompts[0]!, { ...configs[0]!, seed: 41 })).text);
    expect(shared[1]!.text).not.toBe(shared[0]!.text);
  });

  it('the token loop yields only running sequences and honours max_new_tokens 0 and ended sequences', async () => {
    const runner = fromDecoderLM(models['gpt2 (learned positions)']());
    const ids = [Int32Array.from([72, 105]), Int32Array.from([65]), Int32Array.from([66, 67, 68])];
    const configs = [0, 3, 6].map((n) => resolveGenerationConfig({ max_new_tokens: n, do_sample: false, seed: 1 }));
    const ended = new Set<number>();
    const seen: number[][] = [];
    for await (const steps of generateBatchTokens(runner, ids, configs, { ended })) {
      seen.push(steps.map((s) => s.index));
      if (seen.length === 3) ended.add(2); // the caller ends sequence 2 early
    }
    expect(seen).toEqual([[0], [1, 2], [1, 2], [1]]); // 1 ends at its 3 tokens, 2 when the caller ended it
    // Without keepRows (a model that cannot drop rows) the rows stay and nothing changes for the caller.
    const { keepRows: _drop, ...fixed } = runner;
    const seen2: number[][] = [];
    const ended2 = new Set<number>();
    for await (const steps of generateBatchTokens(fixed, ids, configs, { ended: ended2 })) {
      seen2.push(steps.map((s) => s.index));
      if (seen2.length === 3) ended2.add(2);
    }
    expect(seen2).toEqual(seen);
  });

  it('admits a sequence into a running batch; both give what they give alone', async () => {
    const base = fromDecoderLM(models['llama (RoPE, GQA)']());
    const { runner, sizes } = counted(base);
    const [a, b] = [Int32Array.from(Buffer.from('The running one')), Int32Array.from(Buffer.from('Join'))];
    const config = resolveGenerationConfig({ max_new_tokens: 10, do_sample: false, seed: 1 });
    const joinConfig = resolveGenerationConfig({ max_new_tokens: 5, do_sample: false, seed: 1 });
    const got: number[][] = [[], []];
    const frees: number[] = [];
    const admit = (cached: number, free: number) => {
      expect(cached).toBeGreaterThanOrEqual(a.length);
      frees.push(free);
      return frees.length === 2 ? [{ ids: b, config: joinConfig }] : []; // joins before the batch's 3rd step
    };
    for await (const steps of generateBatchTokens(runner, [a], [config], { admit, maxRows: 2 })) for (const s of steps) if (s.tokenId !== undefined) got[s.index]!.push(s.tokenId);
    const alone = async (ids: Int32Array, c: typeof config): Promise<number[]> => {
      const out: number[] = [];
      for await (const s of generateBatchTokens(base, [ids], [c])) for (const t of s) out.push(t.tokenId!);
      return out;
    };
    expect(got[0]).toEqual(await alone(a, config));
    expect(got[1]).toEqual(await alone(b, joinConfig));
    expect(sizes.slice(0, 4)).toEqual([1, 1, 1, 2]); // prefill, step, the joiner's own prefill, then both together
    expect(frees.slice(0, 3)).toEqual([1, 1, 0]); // one row free until the joiner took it
  });

  it('rejects a config list of the wrong length and an empty prompt', async () => {
    const runner = fromDecoderLM(models['gpt2 (learned positions)']());
    await expect(generateBatchText(runner, byteTokenizer, ['a', 'b'], [{}])).rejects.toThrow(/batch of 2 prompts got 1 generation configs/);
    await expect(generateBatchText(runner, byteTokenizer, ['a', ''], {})).rejects.toMatchObject({ code: 'INFER_EMPTY_PROMPT' });
  });
});
