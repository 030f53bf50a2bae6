// The feed-forward block: GELU MLP (GPT-2) or SwiGLU (LLaMA) with a fused gate/up projection.
import { gelu, mul, silu, split, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';
import { Linear } from './linear.js';

/** Activation of an {@link MLP}. */
export type MLPKind = 'gelu_tanh' | 'gelu' | 'swiglu';

/** Options of {@link MLP}. */
export interface MLPOptions {
  /** Model width C. */
  dModel: number;
  /** Hidden width F. */
  dFf: number;
  /** 'gelu_tanh' (GPT-2 gelu_new), 'gelu' (exact) or 'swiglu'. Default 'gelu_tanh'. */
  kind?: MLPKind;
  /** Biases in both projections. Default true. */
  bias?: boolean;
}

/**
 * (…, C) → (…, C). GELU: proj(gelu(fc(x))) with fc (F, C). SwiGLU: fc is (2F, C) holding
 * [gate; up], and the block is proj(silu(gate·x) ⊙ up·x) — one GEMM for both.
 */
export class MLP extends Module {
  /** Activation. */
  readonly kind: MLPKind;
  /** Hidden width. */
  readonly dFf: number;
  /** Input projection ((F or 2F), C). */
  readonly fc: Linear;
  /** Output projection (C, F). */
  readonly proj: Linear;

  constructor(options: MLPOptions) {
    super();
    this.kind = options.kind ?? 'gelu_tanh';
    this.dFf = options.dFf;
    const bias = options.bias ?? true;
    this.fc = this.registerModule('fc', new Linear(options.dModel, this.kind === 'swiglu' ? 2 * options.dFf : options.dFf, { bias }));
    this.proj = this.registerModule('proj', new Linear(options.dFf, options.dModel, { bias }));
  }

  /** (…, C) → (…, C). */
  forward(x: Tensor): Tensor {
    const h = this.fc.forward(x); // (…, F) or (…, 2F)
    if (this.kind === 'swiglu') {
      const [gate, up] = split(h, [this.dFf, this.dFf], h.shape.length - 1);
      return this.proj.forward(mul(silu(gate!), up!));
    }
    return this.proj.forward(gelu(h, { approximate: this.kind === 'gelu_tanh' ? 'tanh' : 'none' }));
  }
}
