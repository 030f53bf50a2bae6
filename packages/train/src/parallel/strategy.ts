// The ParallelStrategy interface every data-parallel / ZeRO strategy implements, and the memory report they share.
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWState } from '../optim/adamw.js';
import type { LossScalerState } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';

/** Bytes a rank holds for training state, by kind (see each strategy for what it keeps). */
export interface MemoryReport {
  /** Parameter values kept between steps (full or this rank's shard). */
  params: number;
  /** Gradients kept between steps (full or this rank's shard). */
  grads: number;
  /** Optimizer state (AdamW m and v) this rank keeps. */
  optimizer: number;
  /** params + grads + optimizer. */
  total: number;
  /** Extra buffers alive during a step only (a gathered unit, communication buckets). */
  transient: number;
  /**
   * The model's own autograd buffers when the strategy keeps its state elsewhere (ZeRO: the
   * full-size gradients `lossAndBackward` writes, and for stage 3 the compute copy of the
   * weights); torch frees these during the step, the TrainableModel interface keeps them.
   */
  workspace: number;
}

/** One optimizer step's outcome on this rank. */
export interface StepResult {
  /** This rank's mean loss over its micro-batches. */
  loss: number;
  /** Global gradient norm before clipping (identical on every rank); NaN when the step was skipped. */
  gradNorm: number;
  /** True when an fp16 overflow on any rank made every rank skip the update (and back off the loss scale). */
  skipped?: boolean;
  /** The fp16 loss scale after the step (absent for fp32/bf16). */
  lossScale?: number;
}

/**
 * A strategy's whole training state in the single-worker trainer's layout: full tensors by
 * parameter name, whatever the sharding (DeepSpeed's "universal checkpoint" idea), so a run can
 * resume on another parallel layout or on one worker.
 */
export interface FullTrainingState {
  /** fp32 master weights by parameter name. */
  master: Map<string, Float32Array>;
  /** AdamW step count and full first/second moments by parameter name. */
  optimizer: AdamWState;
  /** Loss scaler (fp16 only). */
  scaler?: LossScalerState;
}

/**
 * A way of training one model replica per rank: forward/backward on this rank's micro-batches,
 * gradient communication and the optimizer update. Every rank calls `step` with its own data.
 */
export interface ParallelStrategy {
  /** Short name, e.g. 'ddp', 'zero1'. */
  readonly name: string;
  /** The precision it trains in (bf16/fp16 with fp32 masters); absent means fp32. */
  readonly precision?: Precision;
  /** Runs one optimizer step on `batches` (this rank's micro-batches, accumulated) with learning rate `lr`. */
  step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult>;
  /** What this rank holds now. */
  memory(): MemoryReport;
  /** The full parameters by name (gathered when sharded; every rank must call it). */
  fullParameters(): Promise<Map<string, Float32Array>>;
  /** The full training state, gathered from the shards onto every rank (a collective: every rank must call it). Optional. */
  exportState?(): Promise<FullTrainingState>;
  /** Loads a full training state: each rank takes its shard (a collective: every rank calls it with the same state). Optional. */
  importState?(state: FullTrainingState): Promise<void>;
}

/** Builds a {@link MemoryReport} from its parts. */
export function memoryReport(params: number, grads: number, optimizer: number, transient = 0, workspace = 0): MemoryReport {
  return { params, grads, optimizer, total: params + grads + optimizer, transient, workspace };
}
