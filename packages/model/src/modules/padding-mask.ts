// Key padding for batches of sequences of different lengths: which keys are real, and each token's position.
import { tensor, type Tensor } from '@lmkit/tensor';
import { ModelError } from '../errors.js';

/** The additive score of a masked key: large and finite, so masked products stay finite in backward. */
export const MASKED = -1e9;

/**
 * The padding of one forward pass, shared by every layer. Built from an attention mask (B, S) of 1
 * (real token) and 0 (padding) over all keys — the cached positions and this call's T — as Hugging
 * Face models take it. Positions count real tokens only, so a left-padded sequence's first real token
 * is at position 0 (learned positions and RoPE alike), like HF's position_ids from the mask.
 */
export class PaddingMask {
  /** Batch size B. */
  readonly batch: number;
  /** Queries of this call T. */
  readonly queries: number;
  /** Keys S (cached + T). */
  readonly keys: number;
  /** 1 where key (b, s) is real, (B·S) row-major. */
  readonly real: Uint8Array;
  /** Position of query (b, t), (B·T) row-major: real tokens before it; 0 for leading padding. */
  readonly positions: Int32Array;
  private readonly memo = new Map<string, Tensor>();

  /**
   * @param mask (B, offset + T) of 0/1 (any dtype).
   * @param queries T, the tokens of this call.
   * @param offset Positions already cached (the first query's column).
   */
  constructor(mask: Tensor, queries: number, offset: number) {
    const [B, S] = mask.shape as [number, number];
    if (mask.shape.length !== 2 || S !== offset + queries) {
      throw new ModelError('MODEL_BAD_INPUT', `attentionMask has shape ${JSON.stringify([...mask.shape])}, expected [B, ${offset + queries}] (cached ${offset} + new ${queries} positions)`, {
        hint: 'pass a (batch, keys) mask of 1 for real tokens and 0 for padding, covering the cached positions too', details: { field: 'attentionMask' },
      });
    }
    this.batch = B;
    this.queries = queries;
    this.keys = S;
    const data = mask.data();
    this.real = new Uint8Array(B * S);
    this.positions = new Int32Array(B * queries);
    for (let b = 0; b < B; b++) {
      let seen = 0;
      for (let s = 0; s < S; s++) {
        const m = data[b * S + s]!;
        if (m !== 0 && m !== 1) {
          throw new ModelError('MODEL_BAD_INPUT', `attentionMask[${b}][${s}] is ${m}; it must be 0 (padding) or 1 (real token)`, { details: { field: 'attentionMask' } });
        }
        this.real[b * S + s] = m;
        seen += m;
        if (s >= offset) this.positions[b * queries + s - offset] = Math.max(0, seen - 1);
      }
    }
  }

  /** Positions (B, T) as an i32 tensor (for learned position embeddings). */
  positionIds(): Tensor {
    return this.cached('pos', () => tensor(this.positions, [this.batch, this.queries], { dtype: 'i32' }));
  }

  /**
   * Additive score bias (B, 1, 1, T, S): {@link MASKED} on padding keys and, when causal, on keys after
   * the query's column; 0 elsewhere. Columns, not positions, order keys: padding never sits between real tokens.
   */
  bias(causal: boolean): Tensor {
    return this.cached(`bias:${causal}`, () => {
      const { batch: B, queries: T, keys: S } = this;
      const out = new Float32Array(B * T * S);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const col = S - T + t;
          const row = (b * T + t) * S;
          for (let s = 0; s < S; s++) out[row + s] = this.real[b * S + s] === 0 || (causal && s > col) ? MASKED : 0;
        }
      }
      return tensor(out, [B, 1, 1, T, S]);
    });
  }

  /**
   * RoPE tables (B, 1, T, D) for these positions, half-split like `rope` of @lmkit/tensor:
   * `cos` repeats cos(pos·θ^(−2i/D)) over both halves, `sin` is −sin on the first half and +sin on the second.
   */
  ropeTables(headDim: number, theta: number): { cos: Tensor; sin: Tensor } {
    const build = (which: 'cos' | 'sin'): Tensor => {
      const { batch: B, queries: T } = this;
      const D = headDim;
      const half = D >> 1;
      const out = new Float32Array(B * T * D);
      for (let i = 0; i < B * T; i++) {
        const pos = this.positions[i]!;
        for (let j = 0; j < half; j++) {
          const angle = pos * Math.pow(theta, (-2 * j) / D);
          if (which === 'cos') out[i * D + j] = out[i * D + j + half] = Math.cos(angle);
          else {
            out[i * D + j] = -Math.sin(angle);
            out[i * D + j + half] = Math.sin(angle);
          }
        }
      }
      return tensor(out, [B, 1, T, D]);
    };
    return {
      cos: this.cached(`cos:${headDim}:${theta}`, () => build('cos')),
      sin: this.cached(`sin:${headDim}:${theta}`, () => build('sin')),
    };
  }

  private cached(key: string, make: () => Tensor): Tensor {
    let t = this.memo.get(key);
    if (!t) {
      t = make();
      this.memo.set(key, t);
    }
    return t;
  }
}
