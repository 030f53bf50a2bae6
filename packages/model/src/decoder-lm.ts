// The config-driven decoder-only language model: GPT-2 and LLaMA-family shapes (and Mixtral-style MoE).
import { add, crossEntropy, matmul, reshape, type Tensor } from '@lmkit/tensor';
import type { ModelConfig } from './config.js';
import { ModelError } from './errors.js';
import { Linear } from './modules/linear.js';
import type { ResolvedConfig } from './resolve-config.js';
import { Transformer, type ForwardOptions, type ModelOptions } from './transformer.js';

/** Options of {@link DecoderLM.loss}. */
export interface LossOptions {
  /** Target id that contributes no loss. Default -100. */
  ignoreIndex?: number;
  /** Add the MoE load-balancing loss (× router_aux_loss_coef). Default true. */
  includeAux?: boolean;
}

/**
 * A causal language model: embeddings → pre-norm blocks → final norm → LM head (tied to the
 * embedding when `tie_word_embeddings`). GPT-2 (`model_type: 'gpt2'`) and LLaMA/Mixtral
 * (`'llama'`, `'mixtral'`) configs select norms, positions, MLP and heads.
 *
 * @example
 * const model = new DecoderLM(getPreset('tiny'), { seed: 1 });
 * const logits = model.forward(tensor([[1, 2, 3]], [1, 3], { dtype: 'i32' })); // (1, 3, 256)
 */
export class DecoderLM extends Transformer {
  /** Untied output head (V, C), or null when tied to `embed`. */
  readonly head: Linear | null;

  constructor(config: ModelConfig | ResolvedConfig, options: ModelOptions = {}) {
    super(config, options);
    if (!this.spec.causal) {
      throw new ModelError('MODEL_BAD_CONFIG', `DecoderLM needs a causal config, got model_type "${this.spec.modelType}"`, { hint: 'use EncoderLM (or createModel) for encoder configs', details: { field: 'model_type' } });
    }
    this.head = this.spec.tieEmbeddings ? null : this.registerModule('head', new Linear(this.spec.dModel, this.spec.vocabSize, { bias: false }));
    this.initialize(options);
  }

  /** ids (B, T) i32 → logits (B, T, V) (V is the padded vocabulary). */
  forward(ids: Tensor, options: ForwardOptions = {}): Tensor {
    const h = this.hiddenStates(ids, options); // (B, T, C)
    if (this.head) return this.head.forward(h);
    const [B, T, C] = h.shape as [number, number, number];
    const logits = matmul(reshape(h, [B * T, C]), this.embed.weight, { transB: true }); // (B·T, V), tied head
    return reshape(logits, [B, T, this.spec.vocabSize]);
  }

  /**
   * Mean next-token cross-entropy of `targets` (B, T) i32 given `ids` (B, T), plus the MoE
   * load-balancing loss when the model has experts. Returns a scalar to call `backward()` on.
   */
  loss(ids: Tensor, targets: Tensor, options: LossOptions = {}): Tensor {
    const logits = this.forward(ids);
    const [B, T, V] = logits.shape as [number, number, number];
    if (targets.shape.length !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new ModelError('MODEL_BAD_INPUT', `targets have shape ${JSON.stringify([...targets.shape])}, expected [${B}, ${T}] like the ids`);
    }
    let loss = crossEntropy(reshape(logits, [B * T, V]), reshape(targets, [B * T]), { ignoreIndex: options.ignoreIndex ?? -100 });
    const aux = options.includeAux === false ? null : this.auxLoss();
    if (aux) loss = add(loss, aux);
    return loss;
  }
}
