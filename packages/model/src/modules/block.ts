// The pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x)); or both branches in parallel.
import { add, type Rng, type Tensor } from '@lmkit/tensor';
import type { ArchSpec } from '../config.js';
import { Module } from '../module.js';
import { Attention, type AttentionCallOptions } from './attention.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import { MLP } from './mlp.js';
import { MoE } from './moe.js';
import { RMSNorm } from './rms-norm.js';

/** Builds the norm layer a spec asks for. */
export function makeNorm(spec: ArchSpec): LayerNorm | RMSNorm {
  return spec.norm === 'rmsnorm' ? new RMSNorm(spec.dModel, { eps: spec.normEps }) : new LayerNorm(spec.dModel, { eps: spec.normEps, bias: spec.normBias });
}

/**
 * One transformer block built from an {@link ArchSpec}. Sequential (GPT-2, LLaMA):
 * `x += drop(attn(norm1(x))); x += drop(ffn(norm2(x)))`. Parallel (GPT-J/PaLM):
 * `h = norm1(x); x += drop(attn(h)) + drop(ffn(h))`. The FFN is an {@link MLP} or a {@link MoE}.
 */
export class Block extends Module {
  /** First norm. */
  readonly norm1: LayerNorm | RMSNorm;
  /** Self-attention. */
  readonly attn: Attention;
  /** Second norm (absent for a parallel block). */
  readonly norm2: LayerNorm | RMSNorm | null;
  /** Dense feed-forward, or null with MoE. */
  readonly mlp: MLP | null;
  /** Mixture of experts, or null. */
  readonly moe: MoE | null;
  private readonly drop: Dropout;
  private readonly parallel: boolean;

  constructor(spec: ArchSpec, rng: Rng) {
    super();
    this.parallel = spec.parallelBlock;
    this.norm1 = this.registerModule('norm1', makeNorm(spec));
    this.attn = this.registerModule('attn', new Attention({
      dModel: spec.dModel, nHead: spec.nHead, nKvHead: spec.nKvHead, headDim: spec.headDim, bias: spec.attnBias, causal: spec.causal,
      positions: spec.positions, ropeTheta: spec.ropeTheta, dropout: spec.attnDropout, rng,
    }));
    this.norm2 = this.parallel ? null : this.registerModule('norm2', makeNorm(spec));
    if (spec.moe) {
      this.mlp = null;
      this.moe = this.registerModule('moe', new MoE({ dModel: spec.dModel, dFf: spec.dFf, numExperts: spec.moe.numExperts, topK: spec.moe.topK, kind: spec.mlp, bias: spec.mlpBias }));
    } else {
      this.moe = null;
      this.mlp = this.registerModule('mlp', new MLP({ dModel: spec.dModel, dFf: spec.dFf, kind: spec.mlp, bias: spec.mlpBias }));
    }
    this.drop = this.registerModule('drop', new Dropout(spec.residDropout, rng));
  }

  private ffn(x: Tensor): Tensor {
    return this.moe ? this.moe.forward(x) : this.mlp!.forward(x);
  }

  /** (B, T, C) → (B, T, C). */
  forward(x: Tensor, options: AttentionCallOptions = {}): Tensor {
    if (this.parallel) {
      const h = this.norm1.forward(x);
      return add(add(x, this.drop.forward(this.attn.forward(h, options))), this.drop.forward(this.ffn(h)));
    }
    const y = add(x, this.drop.forward(this.attn.forward(this.norm1.forward(x), options)));
    return add(y, this.drop.forward(this.ffn(this.norm2!.forward(y))));
  }
}
