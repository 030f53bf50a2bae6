// Small models, batches and the single-worker reference run shared by the parallelism tests.
import { createModel, type DecoderLM, type ModelConfig } from '@lmkit/model';
import { fromLmkitModel } from '../src/lmkit-model.js';
import { causalLm } from '../src/objectives/causal-lm.js';
import { AdamW } from '../src/optim/adamw.js';
import { clipGradNorm } from '../src/optim/clip-grad-norm.js';
import { roundArrayToFormat } from '../src/precision/float-formats.js';
import { LossScaler, type LossScalerOptions } from '../src/precision/loss-scaler.js';
import type { Precision } from '../src/trainer.js';
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

/** What {@link singleWorkerReference} returns: the masters after the run, and per step whether it was skipped and the loss scale after it. */
export interface ReferenceRun {
  params: Map<string, Float32Array>;
  skipped: boolean[];
  scales: number[];
  opt: AdamW;
}

/**
 * One worker as the Trainer steps it, the reference the parallel tests compare with: per batch,
 * `accum` micro-batches, half-precision gradients (bf16/fp16), unscale and skip on overflow (fp16),
 * clip `clip` (default 1), AdamW on fp32 masters.
 */
export function singleWorkerReference(batches: readonly ObjectiveBatch[], options: { precision: Precision; accum: number; lr: number; scaler?: LossScalerOptions; clip?: number }): ReferenceRun {
  const { precision, accum, lr } = options;
  const clip = options.clip ?? 1.0;
  const format = precision === 'bf16' ? 'bf16' : precision === 'fp16' ? 'f16' : null;
  const model = fromLmkitModel(smallGpt());
  const params = model.parameters();
  const master = params.map((p) => (format ? p.data.slice() : p.data));
  const opt = new AdamW(params.map((p, i) => ({ name: p.name, shape: p.shape, data: master[i], grad: p.grad })), { lr });
  const scaler = precision === 'fp16' ? new LossScaler(options.scaler) : null;
  const sync = (): void => {
    if (format) params.forEach((p, i) => roundArrayToFormat(master[i], format, p.data));
    model.syncParameters?.();
  };
  sync();
  const out: ReferenceRun = { params: new Map(), skipped: [], scales: [], opt };
  for (const batch of batches) {
    const B = batch.batchSize;
    model.zeroGrad();
    for (let a = 0; a < accum; a++) model.lossAndBackward(sliceBatch(batch, (a * B) / accum, ((a + 1) * B) / accum), { lossScale: (scaler?.scale ?? 1) / accum });
    const grads = params.map((p) => p.grad);
    if (format) for (const g of grads) roundArrayToFormat(g, format);
    const skipped = scaler ? scaler.unscale(grads) : false;
    scaler?.update(skipped);
    if (!skipped) {
      clipGradNorm(grads, clip);
      opt.step(lr);
      sync();
    }
    out.skipped.push(skipped);
    out.scales.push(scaler?.scale ?? 1);
  }
  out.params = new Map(params.map((p, i) => [p.name, master[i].slice()]));
  return out;
}
