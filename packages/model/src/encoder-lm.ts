// The bidirectional encoder with a masked-LM head, for BERT/T5-style denoising objectives.
import { add, crossEntropy, gelu, matmul, reshape, zeros, type Tensor } from '@lmkit/tensor';
import type { ModelConfig } from './config.js';
import { ModelError } from './errors.js';
import { Module } from './module.js';
import { LayerNorm } from './modules/layer-norm.js';
import { Linear } from './modules/linear.js';
import type { ResolvedConfig } from './resolve-config.js';
import { Transformer, type ModelOptions } from './transformer.js';
import type { LossOptions } from './decoder-lm.js';

/** Per-call options of {@link EncoderLM.forward}. */
export interface EncoderForwardOptions {
  /** (B, T) of 1 for real tokens and 0 for padding: padding keys are ignored, positions count real tokens. Default none. */
  attentionMask?: Tensor;
}

/** Options of {@link EncoderLM.loss}. */
export interface EncoderLossOptions extends LossOptions, EncoderForwardOptions {}

/** BERT's prediction head: dense → GELU → LayerNorm, then the (tied) vocabulary projection plus a bias. */
class MlmHead extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;

  constructor(dModel: number, vocab: number, eps: number) {
    super();
    this.dense = this.registerModule('dense', new Linear(dModel, dModel));
    this.norm = this.registerModule('norm', new LayerNorm(dModel, { eps }));
    this.registerParameter('bias', zeros([vocab]));
  }

  /** (N, C) → (N, C) transformed features. */
  transform(h: Tensor): Tensor {
    return this.norm.forward(gelu(this.dense.forward(h), { approximate: 'none' }));
  }

  /** The output bias (V). */
  get bias(): Tensor {
    return this.param('bias');
  }
}

/**
 * A masked-LM encoder (`model_type: 'lmkit-encoder'`): bidirectional attention over all
 * positions, pre-norm blocks and an MLM head. Train it on masked inputs with targets set to
 * -100 where no prediction is wanted.
 */
export class EncoderLM extends Transformer {
  /** MLM head (parameters `mlmHead.dense.*`, `mlmHead.norm.*`, `mlmHead.bias`). */
  readonly mlmHead: MlmHead;
  /** Untied vocabulary projection, or null when tied to `embed`. */
  readonly head: Linear | null;

  constructor(config: ModelConfig | ResolvedConfig, options: ModelOptions = {}) {
    super(config, options);
    if (this.spec.causal) {
      throw new ModelError('MODEL_BAD_CONFIG', `EncoderLM needs an encoder config, got model_type "${this.spec.modelType}"`, { hint: "use model_type 'lmkit-encoder' or DecoderLM", details: { field: 'model_type' } });
    }
    this.mlmHead = this.registerModule('mlmHead', new MlmHead(this.spec.dModel, this.spec.vocabSize, this.spec.normEps));
    this.head = this.spec.tieEmbeddings ? null : this.registerModule('head', new Linear(this.spec.dModel, this.spec.vocabSize, { bias: false }));
    this.initialize(options);
  }

  /**
   * ids (B, T) i32 → logits (B, T, V) over every position. With `attentionMask`, a padded batch gives
   * each sequence's real tokens the outputs it gets alone (padding positions' outputs are meaningless).
   */
  forward(ids: Tensor, options: EncoderForwardOptions = {}): Tensor {
    const h = this.hiddenStates(ids, options.attentionMask ? { attentionMask: options.attentionMask } : {}); // (B, T, C)
    const [B, T, C] = h.shape as [number, number, number];
    const feats = this.mlmHead.transform(reshape(h, [B * T, C])); // (B·T, C)
    const w = this.head ? this.head.weight : this.embed.weight; // (V, C)
    const logits = add(matmul(feats, w, { transB: true }), this.mlmHead.bias);
    return reshape(logits, [B, T, this.spec.vocabSize]);
  }

  /** Mean cross-entropy over positions whose target is not `ignoreIndex` (-100), plus any MoE aux loss (set padding targets to -100). */
  loss(ids: Tensor, targets: Tensor, options: EncoderLossOptions = {}): Tensor {
    const logits = this.forward(ids, options);
    const [B, T, V] = logits.shape as [number, number, number];
    let loss = crossEntropy(reshape(logits, [B * T, V]), reshape(targets, [B * T]), { ignoreIndex: options.ignoreIndex ?? -100 });
    const aux = options.includeAux === false ? null : this.auxLoss();
    if (aux) loss = add(loss, aux);
    return loss;
  }
}
