// LayerNorm over the last dimension with a learned scale and (optionally) shift, via the fused tensor op.
import { layerNorm, ones, zeros, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learn a shift. Default true. */
  bias?: boolean;
}

/** y = (x − mean) / √(var + eps) · weight + bias over the last dim (C). */
export class LayerNorm extends Module {
  /** Epsilon. */
  readonly eps: number;

  constructor(dim: number, options: LayerNormOptions = {}) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.registerParameter('weight', ones([dim]));
    if (options.bias ?? true) this.registerParameter('bias', zeros([dim]));
  }

  /** (…, C) → (…, C). */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.param('weight'), this.optionalParam('bias'), this.eps);
  }
}
