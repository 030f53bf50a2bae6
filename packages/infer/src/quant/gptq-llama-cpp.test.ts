// llama.cpp (node-llama-cpp's bundled CPU build) runs a GPTQ-quantized lmkit GGUF on our codes: its logits match lmkit's on the same file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderLM, getPreset } from '@lmkit/model';
import { tensor } from '@lmkit/tensor';
import { GPT2_SPLIT_PATTERN, trainBpe } from '@lmkit/tokenizer';
import { fromDecoderLM } from '../model-adapter.js';
import { loadGgufModel, saveGgufModel } from './gguf-model.js';
import { gptqQuantize } from './gptq.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type Token = Parameters<Awaited<ReturnType<Llama['loadModel']>>['detokenize']>[0][number];

const TEXT = Array.from({ length: 40 }, (_, i) => `Sentence ${i}: the quick brown fox jumps over the lazy dog, and the dog sleeps ${i % 7} hours.`).join('\n');

let llama: Llama | null = null;
let skipReason = '';
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lmkit-gptq-llamacpp-'));
  try {
    const nlc = await import('node-llama-cpp');
    // build 'never': a missing prebuilt binary must not turn into a download and a build.
    llama = await nlc.getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: nlc.LlamaLogLevel.error });
  } catch (error) {
    skipReason = `llama.cpp's prebuilt CPU binary (node-llama-cpp) does not load here: ${(error as Error).message}`;
  }
});

afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Every parameter random (peaky logits, non-trivial norms) so no tensor hides behind a neutral init. */
function randomModel(vocab: number): DecoderLM {
  const model = new DecoderLM({ ...getPreset('tiny'), vocab_size: vocab, n_positions: 64, n_embd: 64, n_layer: 2, tie_word_embeddings: false } as never, { seed: 3 });
  let s = 12345;
  const gaussian = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 0.5) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * (s + 0.5)) / 2 ** 32);
  };
  for (const [name, p] of model.namedParameters()) {
    const gain = /norm/.test(name) && name.endsWith('.weight');
    const fanIn = p.shape.length === 2 ? p.shape[1]! : 1;
    const values = Float32Array.from({ length: p.size }, () => (gain ? 1 + 0.2 * gaussian() : p.shape.length === 2 ? (2 * gaussian()) / Math.sqrt(fanIn) : 0.2 * gaussian()));
    model.setParameter(name, tensor(values, [...p.shape]));
  }
  return model;
}

describe('llama.cpp reads a GPTQ q4_0 file', () => {
  it('and its logits match lmkit on the same codes (closer than quantization moved them)', async (ctx) => {
    if (!llama) return ctx.skip(skipReason);
    const tokenizer = (await trainBpe([TEXT], { vocabSize: 320, pattern: GPT2_SPLIT_PATTERN, specialTokens: ['<|endoftext|>'] })).tokenizer;
    const V = tokenizer.vocabSize;
    const model = randomModel(V);
    const f32Runner = fromDecoderLM(randomModel(V));
    gptqQuantize(model, tokenizer.encodeOrdinary(TEXT), { format: 'q4_0', samples: 16, seqLen: 48, progress: 'silent' });
    const path = join(dir, 'model.gguf');
    await saveGgufModel(model, path, 'q4_0', tokenizer);
    const loaded = await loadGgufModel(path);
    const runner = fromDecoderLM(loaded.model, { prequantized: loaded.quantized });

    const lm = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    const context = await lm.createContext({ contextSize: 64, batchSize: 64, threads: 1, flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' });
    try {
      const prompt = Array.from(tokenizer.encodeOrdinary('Sentence 3: the quick brown fox jumps over'));
      const results = await context.getSequence().controlledEvaluate(prompt.map((t) => [t as Token, { generateNext: { logits: true } }]));
      let worst = 0;
      let scale = 0;
      let shift = 0;
      results.forEach((r, k) => {
        const theirs = r?.next?.logits; // Map token → logit
        const prefix = Int32Array.from(prompt.slice(0, k + 1));
        const ours = runner.nextLogits(prefix, null);
        const exact = f32Runner.nextLogits(prefix, null);
        for (let v = 0; v < V; v++) {
          worst = Math.max(worst, Math.abs(ours[v] - (theirs?.get(v as Token) ?? Number.NaN)));
          scale = Math.max(scale, Math.abs(ours[v]));
          shift = Math.max(shift, Math.abs(ours[v] - exact[v]));
        }
      });
      // llama.cpp quantizes activations to q8_0 for its dot products (lmkit keeps them f32): a few % of the largest logit.
      // Measured here: max |Δlogit| 0.11 of max |logit| 7.2, while q4_0 GPTQ moved lmkit's own logits by up to 2.2 from f32.
      expect(worst).toBeLessThanOrEqual(5e-2 * scale);
      expect(worst).toBeLessThan(shift); // it computes on the GPTQ codes, not on something re-rounded
    } finally {
      await context.dispose();
      await lm.dispose();
    }
  }, 60_000);
});
