// Linear layer y = x·Wᵀ + b with W stored (out, in) as in PyTorch; computed with a transposed matmul, no copy.
import { add, matmul, reshape, zeros, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learned bias. Default true. */
  bias?: boolean;
}

/** A fully connected layer over the last dimension: (…, in) → (…, out). */
export class Linear extends Module {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.registerParameter('weight', zeros([outFeatures, inFeatures])); // (out, in)
    if (options.bias ?? true) this.registerParameter('bias', zeros([outFeatures]));
  }

  /** The weight (out, in). */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** The bias (out) or null. */
  get bias(): Tensor | null {
    return this.optionalParam('bias');
  }

  /** (…, in) → (…, out). */
  forward(x: Tensor): Tensor {
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    // NOTE: one (rows, in)×(out, in)ᵀ GEMM instead of a batch of small ones.
    let y = matmul(reshape(x, [rows, this.inFeatures]), this.weight, { transB: true }); // (rows, out)
    const b = this.bias;
    if (b) y = add(y, b);
    return reshape(y, [...lead, this.outFeatures]);
  }
}
