// Token (or position) embedding table: integer ids → rows of a (V, C) matrix.
import { embedding, zeros, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';

/** A lookup table of `num` vectors of width `dim`: ids (…) i32 → (…, dim). */
export class Embedding extends Module {
  /** Rows in the table. */
  readonly num: number;
  /** Width of each row. */
  readonly dim: number;

  constructor(num: number, dim: number) {
    super();
    this.num = num;
    this.dim = dim;
    this.registerParameter('weight', zeros([num, dim])); // (V, C)
  }

  /** The table (V, C). */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** ids (…) i32 → (…, C). */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
