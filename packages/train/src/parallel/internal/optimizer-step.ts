// The optimizer step every parallel strategy shares: half-precision gradients, fp16 unscale with a found-inf flag agreed across ranks, global-norm clip, AdamW on fp32 masters, scaler update.
import { TrainError } from '../../errors.js';
import { AdamW, type AdamWOptions, type AdamWState, type OptimParam } from '../../optim/adamw.js';
import { roundArrayToFormat, type HalfFormat } from '../../precision/float-formats.js';
import { LossScaler, type LossScalerOptions, type LossScalerState } from '../../precision/loss-scaler.js';
import type { Precision } from '../../trainer.js';
import type { Communicator } from '../communicator.js';

/** Options for {@link OptimizerStep}. */
export interface OptimizerStepOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /**
   * True when the ranks of `comm` hold disjoint shards of the reduced gradient (ZeRO, or the
   * model-parallel pieces of one replica): the squared-norm partial sums are added across
   * ranks. False when every rank holds the whole reduced gradient (DDP). Required.
   */
  sharded: boolean;
  /**
   * With `sharded`, a weight per parameter on this rank's squared-norm partial sum, for parameters
   * that several ranks of `comm` hold as identical copies (e.g. norms replicated across a
   * tensor-parallel group: 1/tp), so each counts once in the global norm. Default all 1.
   */
  normWeights?: readonly number[];
}

/** One optimizer step's outcome (identical on every rank of the group). */
export interface OptimizerStepResult {
  /** Global gradient norm before clipping; NaN when the step was skipped. */
  gradNorm: number;
  /** True when some rank found an Inf/NaN gradient (fp16): no rank updated, the scale was backed off. */
  skipped: boolean;
}

/** This rank's optimizer state: AdamW moments of the parameters (or shard pieces) it updates, and the loss scaler. */
export interface OptimizerStepState {
  /** AdamW step count and moments by parameter name. */
  optimizer: AdamWState;
  /** Loss scaler (fp16 only). */
  scaler?: LossScalerState;
}

/** The {@link OptimizerStep} options a strategy's options ask for. */
export function optimizerStepOptions(options: Omit<OptimizerStepOptions, 'sharded'>, sharded: boolean): OptimizerStepOptions {
  return { sharded, ...(options.optimizer ? { optimizer: options.optimizer } : {}), ...(options.gradClip !== undefined ? { gradClip: options.gradClip } : {}), ...(options.precision ? { precision: options.precision } : {}), ...(options.lossScaler ? { lossScaler: options.lossScaler } : {}) };
}

const FORMATS: Record<Precision, HalfFormat | null> = { fp32: null, bf16: 'bf16', fp16: 'f16' };

/** The half format of `precision` (null for fp32), with a typed error for anything else. */
export function halfFormatOf(precision: Precision): HalfFormat | null {
  if (!(precision in FORMATS)) throw new TrainError('TRAIN_BAD_CONFIG', `precision must be fp32, bf16 or fp16, got "${String(precision)}"`, { details: { field: 'precision' } });
  return FORMATS[precision];
}

/**
 * The update a parallel strategy runs once its gradients are reduced, the same on every rank of
 * `comm` so replicas never diverge. `params` are what this rank updates: fp32 master values
 * (full, or its shard pieces) and the reduced gradients of the loss × {@link lossScale}. A step:
 * gradients are rounded to bf16/fp16 (as the single-worker trainer does); fp16 divides them by
 * the scale S; one all-reduce of [Σg², found-inf] (16 bytes) makes every rank agree on the
 * global norm and on whether ANY rank saw an Inf/NaN (torch GradScaler / DeepSpeed semantics:
 * then all ranks skip the step and halve S); otherwise all clip with the same coefficient and
 * apply AdamW. The caller then copies the masters (rounded) into its compute weights.
 *
 * @example
 * const opt = new OptimizerStep(comm, shardParams, { sharded: true, precision: 'fp16' });
 * model.lossAndBackward(batch, { lossScale: opt.lossScale });
 * const { skipped } = await opt.step(lr);
 */
export class OptimizerStep {
  /** The AdamW over `params`. */
  readonly optimizer: AdamW;
  /** The dynamic loss scaler (fp16), or null. */
  readonly scaler: LossScaler | null;
  /** bf16/f16 for half precision, null for fp32. */
  readonly format: HalfFormat | null;
  private readonly grads: Float32Array[];
  private readonly clip: number;

  constructor(
    private readonly comm: Communicator,
    readonly params: readonly OptimParam[],
    private readonly options: OptimizerStepOptions,
  ) {
    this.format = halfFormatOf(options.precision ?? 'fp32');
    this.optimizer = new AdamW(params, options.optimizer);
    this.scaler = options.precision === 'fp16' ? new LossScaler(options.lossScaler) : null;
    this.grads = params.map((p) => p.grad);
    this.clip = options.gradClip ?? 1.0;
  }

  /** The factor the loss is multiplied by before backward: the fp16 loss scale S, else 1. */
  get lossScale(): number {
    return this.scaler?.scale ?? 1;
  }

  /** Rounds `master` into `out` in the compute format (a plain copy for fp32). */
  toCompute(master: Float32Array, out: Float32Array): void {
    if (this.format) roundArrayToFormat(master, this.format, out);
    else if (out !== master) out.set(master);
  }

  /** Unscale, agree on overflow and norm across ranks, clip, AdamW at `lr`, update the scaler. Every rank must call it. */
  async step(lr: number): Promise<OptimizerStepResult> {
    const grads = this.grads;
    if (this.format) for (const g of grads) roundArrayToFormat(g, this.format);
    let found = false;
    for (const g of grads) {
      for (let i = 0; i < g.length && !found; i++) if (!Number.isFinite(g[i])) found = true;
      if (found) break;
    }
    if (this.scaler && !found) {
      const inv = 1 / this.scaler.scale;
      for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= inv;
    }
    let sumSq = 0;
    let weighted = 0;
    if (!found) {
      grads.forEach((g, k) => {
        let s = 0;
        for (let i = 0; i < g.length; i++) s += g[i] * g[i];
        sumSq += s;
        weighted += (this.options.normWeights?.[k] ?? 1) * s;
      });
    }
    // NOTE: one 16-byte all-reduce carries both: the sum of flags > 0 is MAX(found-inf) over ranks.
    const agreed = new Float64Array([this.options.sharded ? weighted : 0, found ? 1 : 0]);
    await this.comm.allReduce(agreed, 'sum');
    if (agreed[1] > 0) {
      if (!this.scaler) {
        throw new TrainError('TRAIN_NONFINITE_LOSS', `a gradient is Inf/NaN on ${agreed[1]} of ${this.comm.worldSize} ranks (${this.options.precision ?? 'fp32'} has no loss scaling to skip the step)`, {
          hint: 'lower the learning rate, use --precision fp16 (dynamic loss scaling) or fp32, or check the data; resume with --resume from the last checkpoint',
          details: { ranks: agreed[1] },
        });
      }
      this.scaler.update(true);
      return { gradNorm: NaN, skipped: true };
    }
    const gradNorm = Math.sqrt(this.options.sharded ? agreed[0] : sumSq);
    if (!Number.isFinite(gradNorm)) {
      throw new TrainError('TRAIN_NONFINITE_LOSS', `the gradient norm is ${gradNorm}`, { hint: 'lower the learning rate or use fp32; resume with --resume from the last checkpoint' });
    }
    if (this.clip > 0) {
      const coef = this.clip / (gradNorm + 1e-6);
      if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
    this.optimizer.step(lr);
    this.scaler?.update(false);
    return { gradNorm, skipped: false };
  }

  /** This rank's AdamW moments and scaler state (copies). */
  state(): OptimizerStepState {
    return { optimizer: this.optimizer.stateDict(), ...(this.scaler ? { scaler: this.scaler.state() } : {}) };
  }

  /** Restores {@link OptimizerStep.state} (moments keyed by the names of `params`). A missing scaler state keeps the current scale. */
  loadState(state: OptimizerStepState): void {
    this.optimizer.loadStateDict(state.optimizer);
    if (this.scaler && state.scaler) this.scaler.loadState(state.scaler);
  }
}
