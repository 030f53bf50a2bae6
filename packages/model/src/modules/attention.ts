// Multi-head self-attention with grouped/multi-query heads, learned/RoPE/ALiBi positions, causal or bidirectional, key padding, and a KV-cache hook.
import {
  add, attention, concat, dropout, matmul, mul, reshape, rope, slice, softmax, split, tensor, transpose, type Rng, type Tensor,
} from '@lmkit/tensor';
import type { PositionEmbedding } from '../config.js';
import { ModelError } from '../errors.js';
import { Module } from '../module.js';
import type { LayerKVCache } from './kv-cache.js';
import { Linear } from './linear.js';
import { MASKED, type PaddingMask } from './padding-mask.js';

// Most score elements the explicit-score path holds at once (16 MiB of f32); longer inputs go in query blocks.
let explicitScoresMax = 1 << 22;

/** @internal Sets the explicit path's score budget in elements (tests use a small one to exercise query blocks). */
export function setExplicitScoresMax(n: number): void {
  explicitScoresMax = n;
}

/** Options of {@link Attention}. */
export interface AttentionOptions {
  /** Model width C. */
  dModel: number;
  /** Query heads H. */
  nHead: number;
  /** Key/value heads (divides H; 1 = multi-query). Default H. */
  nKvHead?: number;
  /** Per-head width D. Default C / H. */
  headDim?: number;
  /** Biases in the projections. Default true. */
  bias?: boolean;
  /** Mask future keys (decoder) or not (encoder). Default true. */
  causal?: boolean;
  /** Position scheme; 'learned' means none here (added to the embeddings). Default 'learned'. */
  positions?: PositionEmbedding;
  /** RoPE base. Default 10000. */
  ropeTheta?: number;
  /** Dropout on attention probabilities in training. Default 0. */
  dropout?: number;
  /** RNG for dropout; required when dropout > 0. */
  rng?: Rng;
}

/** Per-call options of {@link Attention.forward}. */
export interface AttentionCallOptions {
  /** Append this call's keys/values to the cache and attend over everything cached. */
  cache?: LayerKVCache;
  /** Position of the first query (RoPE/ALiBi/causal mask). Default: the cache length, else 0. */
  positionOffset?: number;
  /** Key padding and per-sequence positions of a batch of unequal sequences. Default none (every key is real). */
  padding?: PaddingMask;
}

/**
 * ALiBi slopes for `n` heads (Press et al.): a geometric sequence starting at 2^(−8/n) for a
 * power of two, with the interleaved extension of the reference code otherwise.
 */
export function alibiSlopes(n: number): Float32Array {
  const pow2 = (k: number): number[] => {
    const start = 2 ** (-(2 ** -(Math.log2(k) - 3)));
    return Array.from({ length: k }, (_, i) => start * start ** i);
  };
  if (Number.isInteger(Math.log2(n))) return Float32Array.from(pow2(n));
  const closest = 2 ** Math.floor(Math.log2(n));
  const extra = pow2(2 * closest).filter((_, i) => i % 2 === 0).slice(0, n - closest);
  return Float32Array.from([...pow2(closest), ...extra]);
}

/** Self-attention: (B, T, C) → (B, T, C), with one fused QKV projection ((H + 2·Hkv)·D, C). */
export class Attention extends Module {
  /** Query heads. */
  readonly nHead: number;
  /** Key/value heads. */
  readonly nKvHead: number;
  /** Per-head width. */
  readonly headDim: number;
  /** Causal masking. */
  readonly causal: boolean;
  /** Position scheme. */
  readonly positions: PositionEmbedding;
  /** RoPE base. */
  readonly ropeTheta: number;
  /** Attention-probability dropout. */
  readonly dropout: number;
  /** Fused q/k/v projection. */
  readonly qkv: Linear;
  /** Output projection (C, H·D). */
  readonly proj: Linear;
  private readonly slopes: Float32Array | null;
  private readonly rng: Rng | null;

  constructor(options: AttentionOptions) {
    super();
    const { dModel, nHead } = options;
    this.nHead = nHead;
    this.nKvHead = options.nKvHead ?? nHead;
    this.headDim = options.headDim ?? dModel / nHead;
    if (!Number.isInteger(this.headDim) || nHead % this.nKvHead !== 0) {
      throw new ModelError('MODEL_BAD_CONFIG', `attention: ${nHead} heads, ${this.nKvHead} kv heads, width ${dModel} is not a valid shape`, { hint: 'heads must divide the width and kv heads must divide heads' });
    }
    this.causal = options.causal ?? true;
    this.positions = options.positions ?? 'learned';
    this.ropeTheta = options.ropeTheta ?? 10000;
    this.dropout = options.dropout ?? 0;
    this.rng = options.rng ?? null;
    if (this.dropout > 0 && !this.rng) throw new ModelError('MODEL_BAD_CONFIG', 'attention: dropout > 0 needs an rng');
    const bias = options.bias ?? true;
    this.qkv = this.registerModule('qkv', new Linear(dModel, (nHead + 2 * this.nKvHead) * this.headDim, { bias }));
    this.proj = this.registerModule('proj', new Linear(nHead * this.headDim, dModel, { bias }));
    this.slopes = this.positions === 'alibi' ? alibiSlopes(nHead) : null;
  }

  /** x (B, T, C) → (B, T, C). */
  forward(x: Tensor, options: AttentionCallOptions = {}): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const { nHead: H, nKvHead: Hkv, headDim: D } = this;
    const offset = options.positionOffset ?? options.cache?.length ?? 0;
    const padding = options.padding;
    const [qf, kf, vf] = split(this.qkv.forward(x), [H * D, Hkv * D, Hkv * D], 2); // (B, T, ·)
    let q = transpose(reshape(qf!, [B, T, H, D]), 1, 2); // (B, H, T, D)
    let k = transpose(reshape(kf!, [B, T, Hkv, D]), 1, 2); // (B, Hkv, T, D)
    let v = transpose(reshape(vf!, [B, T, Hkv, D]), 1, 2); // (B, Hkv, T, D)
    if (this.positions === 'rope') {
      if (padding) {
        q = this.ropeAt(q, padding);
        k = this.ropeAt(k, padding);
      } else {
        q = rope(q, { positionOffset: offset, theta: this.ropeTheta });
        k = rope(k, { positionOffset: offset, theta: this.ropeTheta });
      }
    }
    if (options.cache) ({ k, v } = options.cache.append(k, v)); // (B, Hkv, S, D)
    const scale = 1 / Math.sqrt(D);
    const o = padding || (this.training && this.dropout > 0)
      ? this.explicit(q, k, v, scale, offset, padding)
      : attention(q, k, v, { causal: this.causal, scale, alibiSlopes: this.slopes ?? undefined, positionOffset: offset }); // (B, H, T, D)
    return this.proj.forward(reshape(transpose(o, 1, 2), [B, T, H * D]));
  }

  // RoPE at per-sequence positions: x·cos + swapHalves(x)·sin with the padding's tables (same rotation as `rope`).
  private ropeAt(x: Tensor, padding: PaddingMask): Tensor {
    const { cos, sin } = padding.ropeTables(this.headDim, this.ropeTheta); // (B, 1, T, D)
    const [lo, hi] = split(x, this.headDim / 2, 3); // (B, H, T, D/2) each
    const swapped = concat([hi!, lo!], 3); // (x2, x1)
    return add(mul(x, cos), mul(swapped, sin));
  }

  /**
   * Attention with explicit scores, for key padding and for dropout on the probabilities (the fused op
   * has neither). Queries go in row blocks so the scores stay under a budget (16 MiB)
   * (a padded 1024-token prefill would otherwise hold B·H·T·S floats at once).
   */
  private explicit(q: Tensor, k: Tensor, v: Tensor, scale: number, offset: number, padding: PaddingMask | undefined): Tensor {
    const [B, H, T] = q.shape as [number, number, number, number];
    const S = k.shape[2]!;
    const rows = Math.max(1, Math.floor(explicitScoresMax / (B * H * S)));
    const bias = padding?.bias(this.causal); // (B, 1, 1, T, S)
    if (rows >= T) return this.explicitRows(q, k, v, scale, offset, bias);
    const parts: Tensor[] = [];
    for (let t0 = 0; t0 < T; t0 += rows) {
      const t1 = Math.min(T, t0 + rows);
      parts.push(this.explicitRows(slice(q, 2, t0, t1), k, v, scale, offset + t0, bias ? slice(bias, 3, t0, t1) : undefined));
    }
    return concat(parts, 2);
  }

  // Explicit attention of query rows q (B, H, Tq, D) at columns offset…offset+Tq−1; `padding` is their (B, 1, 1, Tq, S) bias.
  // Query heads are grouped by their kv head so GQA needs no repeated keys.
  private explicitRows(q: Tensor, k: Tensor, v: Tensor, scale: number, offset: number, padding: Tensor | undefined): Tensor {
    const [B, H, T, D] = q.shape as [number, number, number, number];
    const Hkv = this.nKvHead;
    const G = H / Hkv;
    const S = k.shape[2]!;
    const qg = reshape(q, [B, Hkv, G * T, D]); // query head h = kvHead·G + g
    let scores = reshape(mul(matmul(qg, k, { transB: true }), scale), [B, Hkv, G, T, S]);
    if (padding) scores = add(scores, padding); // + (B, 1, 1, T, S), causal included
    const bias = this.causal && !padding && offset + 1 < S ? new Float32Array(T * S) : null; // null when no query has future keys
    if (bias) for (let t = 0; t < T; t++) for (let s = t + offset + 1; s < S; s++) bias[t * S + s] = MASKED;
    if (bias) scores = add(scores, tensor(bias, [T, S]));
    if (this.slopes) {
      const alibi = new Float32Array(H * T * S);
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < T; t++) {
          const qpos = t + offset; // columns: padding shifts query and key alike, so distances hold
          for (let s = 0; s < S; s++) alibi[(h * T + t) * S + s] = -this.slopes[h]! * Math.abs(qpos - s); // symmetric when bidirectional
        }
      }
      scores = add(scores, tensor(alibi, [Hkv, G, T, S]));
    }
    let p = softmax(scores, -1);
    if (this.training && this.dropout > 0) p = dropout(p, this.dropout, this.rng!, true);
    return reshape(matmul(reshape(p, [B, Hkv, G * T, S]), v), [B, H, T, D]);
  }
}
