// RMSNorm over the last dimension (LLaMA): x / √(mean(x²) + eps) · weight, via the fused tensor op.
import { ones, rmsNorm, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to the mean square. Default 1e-6. */
  eps?: number;
}

/** Root-mean-square normalization with a learned scale. */
export class RMSNorm extends Module {
  /** Epsilon. */
  readonly eps: number;

  constructor(dim: number, options: RMSNormOptions = {}) {
    super();
    this.eps = options.eps ?? 1e-6;
    this.registerParameter('weight', ones([dim]));
  }

  /** (…, C) → (…, C). */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.param('weight'), this.eps);
  }
}
