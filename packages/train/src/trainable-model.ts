// The interface the Trainer drives: parameters as flat fp32 buffers, and a loss with its backward pass.
import type { ObjectiveBatch } from './objectives/objective.js';

/** One trainable parameter, seen as flat buffers. */
export interface TrainableParam {
  /** State-dict name (saved under it in checkpoints). */
  readonly name: string;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** The values the forward pass reads; the Trainer writes updated weights here, then calls `syncParameters`. */
  readonly data: Float32Array;
  /** The gradient accumulated by `lossAndBackward` since the last `zeroGrad`. */
  readonly grad: Float32Array;
}

/** Options for one forward/backward pass. */
export interface BackwardOptions {
  /** The loss is multiplied by this before backward (1/accumulation steps × loss scale). */
  lossScale: number;
}

/**
 * A model the Trainer can train. `@lmkit/train`'s `fromLmkitModel` adapts an @lmkit/model
 * module; anything else (a model from another library, a test model) can implement it.
 */
export interface TrainableModel {
  /** Every trainable parameter, always the same objects in the same order. */
  parameters(): readonly TrainableParam[];
  /** Sets every gradient to zero. */
  zeroGrad(): void;
  /**
   * Runs forward and backward on `batch` and ADDS `lossScale · ∂loss/∂θ` to each `grad`.
   * Returns the unscaled mean cross-entropy over the batch's targets (nats).
   */
  lossAndBackward(batch: ObjectiveBatch, options: BackwardOptions): number;
  /** Mean cross-entropy over the batch's targets without gradients (evaluation mode). */
  evalLoss(batch: ObjectiveBatch): number;
  /** Called after the Trainer changed `data` arrays (e.g. to upload them to a device). Optional. */
  syncParameters?(): void;
  /** The model's config, written as `config.json` in checkpoints. */
  config(): Record<string, unknown>;
  /** Weights to save as `model.safetensors` (e.g. with Hugging Face names); default: parameters by name. Optional. */
  exportWeights?(): Map<string, { shape: number[]; data: Float32Array }>;
  /** State of any randomness inside the model (dropout), for exact resume. Optional. */
  rngState?(): unknown;
  /** Restores {@link TrainableModel.rngState}. Optional. */
  loadRngState?(state: unknown): void;
  /** Training FLOPs per token (forward + backward) for MFU. Optional. */
  flopsPerToken?(seqLen: number): number;
}
