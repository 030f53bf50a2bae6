// Small models and batches shared by the parallelism tests: a 2-layer GPT-2 and deterministic token batches.
import { createModel, type DecoderLM, type ModelConfig } from '@lmkit/model';
import { causalLm } from '../src/objectives/causal-lm.js';
import type { ObjectiveBatch } from '../src/objectives/objective.js';
import { SeededRng } from '../src/rng.js';

/** The small GPT-2 config of {@link smallGpt}. */
export const SMALL_GPT_CONFIG = { model_type: 'gpt2', vocab_size: 64, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 } as const;

/** A small GPT-2 (vocab 64, d 32, 2 layers, 4 heads, context 16); the same seed gives the same weights. */
export function smallGpt(seed = 7, overrides: Record<string, unknown> = {}): DecoderLM {
  return createModel({ ...SMALL_GPT_CONFIG, ...overrides } as ModelConfig, { seed }) as DecoderLM;
}

/** A small LLaMA (RMSNorm, RoPE, SwiGLU, 4 query / 2 kv heads, untied head), same sizes as {@link smallGpt}. */
export function smallLlama(seed = 7): DecoderLM {
  return createModel({ model_type: 'llama', vocab_size: 64, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16 }, { seed }) as DecoderLM;
}

/** A causal-LM batch of `B` random sequences of length `T` over a vocabulary of `V`. */
export function randomBatch(B: number, T: number, V: number, seed: number): ObjectiveBatch {
  const rng = new SeededRng(seed);
  const windows = new Int32Array(B * (T + 1));
  for (let i = 0; i < windows.length; i++) windows[i] = rng.int(V);
  return causalLm().makeBatch(windows, B, T, rng);
}

/** Rows [from, to) of a batch. */
export function sliceBatch(b: ObjectiveBatch, from: number, to: number): ObjectiveBatch {
  const T = b.seqLen;
  const targets = b.targets.slice(from * T, to * T);
  return { inputIds: b.inputIds.slice(from * T, to * T), targets, batchSize: to - from, seqLen: T, targetCount: targets.length };
}

/** Largest |a − b| over all entries of two maps of arrays with the same keys. */
export function maxAbsDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let m = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

/** Largest |a − b| / (|b| + atol) — a relative error robust near zero. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-9): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + atol));
  return m;
}
