// The Objective interface: turns raw token windows into (inputs, targets) for one training step.
import type { SeededRng } from '../rng.js';

/** Targets with this id are ignored by the loss (torch's `ignore_index`). */
export const IGNORE_INDEX = -100;

/** One step's model inputs and loss targets, flat row-major. */
export interface ObjectiveBatch {
  /** Token ids fed to the model, (B, T). */
  readonly inputIds: Int32Array;
  /** Target id per position, (B, T); {@link IGNORE_INDEX} where no loss is taken. */
  readonly targets: Int32Array;
  /** B. */
  readonly batchSize: number;
  /** T. */
  readonly seqLen: number;
  /** Number of targets that count in the loss (not ignored). */
  readonly targetCount: number;
}

/**
 * A pre-training objective. It says how many raw tokens one example needs and builds the
 * batch from those windows; the trainer runs the model and a cross-entropy over `targets`.
 */
export interface Objective {
  /** Short name used in configs and metrics: 'clm', 'mlm' or 'span'. */
  readonly name: string;
  /** Whether the model attends causally (decoder) or bidirectionally (encoder). */
  readonly causal: boolean;
  /** Raw tokens one example consumes for a model sequence length `seqLen`. */
  windowLength(seqLen: number): number;
  /**
   * Builds a batch from `windows`, (B, windowLength(seqLen)) row-major. `rng` drives any random
   * corruption, so the same rng state gives the same batch.
   */
  makeBatch(windows: Int32Array, batchSize: number, seqLen: number, rng: SeededRng): ObjectiveBatch;
}

/** Counts targets that are not {@link IGNORE_INDEX}. */
export function countTargets(targets: Int32Array): number {
  let n = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) n++;
  return n;
}
