// The shared transformer trunk: token (+ learned position) embeddings, a stack of blocks and a final norm.
import { add, createRng, mul, slice, type Rng, type Tensor } from '@lmkit/tensor';
import type { ArchSpec, ModelConfig } from './config.js';
import { ModelError } from './errors.js';
import { initGpt2 } from './init.js';
import { Module, ModuleList } from './module.js';
import { Block, makeNorm } from './modules/block.js';
import { Dropout } from './modules/dropout.js';
import { Embedding } from './modules/embedding.js';
import type { KVCache } from './modules/kv-cache.js';
import { PaddingMask } from './modules/padding-mask.js';
import type { LayerNorm } from './modules/layer-norm.js';
import type { RMSNorm } from './modules/rms-norm.js';
import { resolveConfig, type ResolvedConfig } from './resolve-config.js';

/** Options of model constructors. */
export interface ModelOptions {
  /** Seed of the RNG used for initialization and dropout. Default 0. */
  seed?: number;
  /** Skip GPT-2 initialization (e.g. when weights are loaded next). Default false. */
  skipInit?: boolean;
  /** Name of the config in error messages. Default 'config'. */
  source?: string;
}

/** Per-call options of a model's forward pass. */
export interface ForwardOptions {
  /** KV cache: appends this call's positions and attends over all cached ones (inference). */
  cache?: KVCache;
  /** Position of the first token. Default: the cache length, else 0. */
  positionOffset?: number;
  /**
   * Attention mask (B, S) over all keys — cached ones and this call's T — of 1 for real tokens and 0
   * for padding, as in Hugging Face. Padding keys are never attended to, and positions count real
   * tokens only (a left-padded sequence starts at position 0). Default none: every token is real.
   */
  attentionMask?: Tensor;
}

/**
 * Base of {@link DecoderLM} and {@link EncoderLM}: validates the config, builds the trunk and
 * initializes it. Parameter names: `embed.weight`, `pos.weight`, `blocks.{i}.…`, `normF.…`.
 */
export class Transformer extends Module {
  /** The config with every default filled in (what config.json holds). */
  readonly config: ResolvedConfig;
  /** The resolved architecture. */
  readonly spec: ArchSpec;
  /** The RNG of dropout (and of initialization, at construction). */
  readonly rng: Rng;
  /** Token embedding (V, C). */
  readonly embed: Embedding;
  /** Learned positions (maxPositions, C), or null for RoPE/ALiBi. */
  readonly pos: Embedding | null;
  /** The blocks. */
  readonly blocks: ModuleList<Block>;
  /** Final norm. */
  readonly normF: LayerNorm | RMSNorm;
  private readonly embedDrop: Dropout;

  constructor(config: ModelConfig | ResolvedConfig, options: ModelOptions = {}) {
    super();
    const resolved = resolveConfig(config, options.source);
    this.config = resolved.config;
    this.spec = resolved.spec;
    this.rng = createRng(options.seed ?? 0);
    const spec = this.spec;
    this.embed = this.registerModule('embed', new Embedding(spec.vocabSize, spec.dModel));
    this.pos = spec.positions === 'learned' ? this.registerModule('pos', new Embedding(spec.maxPositions, spec.dModel)) : null;
    this.embedDrop = this.registerModule('embedDrop', new Dropout(spec.embdDropout, this.rng));
    this.blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: spec.nLayer }, () => new Block(spec, this.rng))));
    this.normF = this.registerModule('normF', makeNorm(spec));
  }

  /** Initializes every parameter GPT-2 style (subclasses call this after adding their heads). */
  protected initialize(options: ModelOptions): void {
    if (!options.skipInit) initGpt2(this, this.spec, this.rng);
  }

  /** ids (B, T) i32 → final hidden states (B, T, C), after the final norm. */
  hiddenStates(ids: Tensor, options: ForwardOptions = {}): Tensor {
    if (ids.shape.length !== 2 || ids.dtype !== 'i32') {
      throw new ModelError('MODEL_BAD_INPUT', `input ids must be an i32 tensor (B, T), got ${ids.dtype} ${JSON.stringify([...ids.shape])}`, { hint: "create them with tensor(ids, [B, T], { dtype: 'i32' })" });
    }
    const T = ids.shape[1]!;
    const offset = options.positionOffset ?? options.cache?.length ?? 0;
    if (offset + T > this.spec.maxPositions) {
      throw new ModelError('MODEL_BAD_INPUT', `positions ${offset}..${offset + T - 1} exceed the context length ${this.spec.maxPositions}`, {
        hint: 'shorten the sequence (or crop the KV cache), or use a config with a longer context', details: { seqLen: offset + T },
      });
    }
    const padding = options.attentionMask ? new PaddingMask(options.attentionMask, T, offset) : undefined;
    if (padding && padding.batch !== ids.shape[0]) {
      throw new ModelError('MODEL_BAD_INPUT', `attentionMask has ${padding.batch} rows but the ids have ${ids.shape[0]}`, { details: { field: 'attentionMask' } });
    }
    let x = this.embed.forward(ids); // (B, T, C)
    if (this.pos) x = add(x, padding ? this.pos.forward(padding.positionIds()) : slice(this.pos.weight, 0, offset, offset + T)); // + (B, T, C) or (T, C)
    x = this.embedDrop.forward(x);
    this.blocks.items.forEach((block, i) => {
      x = block.forward(x, { cache: options.cache?.layer(i), positionOffset: offset, padding });
    });
    return this.normF.forward(x);
  }

  /** Σ router_aux_loss_coef · load-balancing loss over MoE blocks of the latest forward, or null without MoE. */
  auxLoss(): Tensor | null {
    if (!this.spec.moe) return null;
    let total: Tensor | null = null;
    for (const block of this.blocks.items) {
      const aux = block.moe?.lastRouting?.auxLoss;
      if (aux) total = total ? add(total, aux) : aux;
    }
    return total ? mul(total, this.spec.moe.auxLossCoef) : null;
  }
}

