// The ParallelStrategy interface every data-parallel / ZeRO strategy implements, and the memory report they share.
import type { ObjectiveBatch } from '../objectives/objective.js';

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
  /** Global gradient norm before clipping (identical on every rank). */
  gradNorm: number;
}

/**
 * A way of training one model replica per rank: forward/backward on this rank's micro-batches,
 * gradient communication and the optimizer update. Every rank calls `step` with its own data.
 */
export interface ParallelStrategy {
  /** Short name, e.g. 'ddp', 'zero1'. */
  readonly name: string;
  /** Runs one optimizer step on `batches` (this rank's micro-batches, accumulated) with learning rate `lr`. */
  step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult>;
  /** What this rank holds now. */
  memory(): MemoryReport;
  /** The full parameters by name (gathered when sharded; every rank must call it). */
  fullParameters(): Promise<Map<string, Float32Array>>;
}

/** Builds a {@link MemoryReport} from its parts. */
export function memoryReport(params: number, grads: number, optimizer: number, transient = 0, workspace = 0): MemoryReport {
  return { params, grads, optimizer, total: params + grads + optimizer, transient, workspace };
}
