// Learning-rate schedules: linear warmup, then cosine, linear, constant or warmup-stable-decay (llm.c semantics).
import { TrainError } from '../errors.js';

/** The decay shape after warmup. */
export type ScheduleKind = 'cosine' | 'linear' | 'constant' | 'wsd';

/** Options for {@link learningRateAt} / {@link createSchedule}. */
export interface ScheduleOptions {
  /** Decay shape after warmup. Default 'cosine'. */
  kind?: ScheduleKind;
  /** Peak learning rate, reached at the end of warmup. Default 3e-4 (llm.c). */
  maxLr?: number;
  /** Warmup steps (linear ramp). Default 0. */
  warmupSteps?: number;
  /** Step at which the decay ends (usually the number of training steps); after it the LR stays at the minimum. Required for decaying kinds. */
  totalSteps: number;
  /** Final LR as a fraction of maxLr (llm.c `final_learning_rate_frac`). Default 0.1 (nanoGPT's min_lr = lr/10). */
  finalLrFrac?: number;
  /** wsd only: fraction of totalSteps spent in the final 1−√ decay. Default 0.2 (llm.c). */
  decayFraction?: number;
  /**
   * Warmup ramp: 'llmc' gives `maxLr·(step+1)/warmup` (llm.c), 'nanogpt' gives
   * `maxLr·(step+1)/(warmup+1)` (nanoGPT's train.py). Default 'llmc'.
   */
  warmupStyle?: 'llmc' | 'nanogpt';
}

/** A resolved schedule: a pure function of the (0-based) optimizer step. */
export interface LrSchedule {
  /** The options with every default filled in (stored in checkpoints). */
  readonly options: Required<ScheduleOptions>;
  /** Learning rate for optimizer step `step` (0-based). */
  at(step: number): number;
}

/** Fills defaults and validates, naming the offending field. */
export function resolveScheduleOptions(options: ScheduleOptions): Required<ScheduleOptions> {
  const o: Required<ScheduleOptions> = {
    kind: options.kind ?? 'cosine',
    maxLr: options.maxLr ?? 3e-4,
    warmupSteps: options.warmupSteps ?? 0,
    totalSteps: options.totalSteps,
    finalLrFrac: options.finalLrFrac ?? 0.1,
    decayFraction: options.decayFraction ?? 0.2,
    warmupStyle: options.warmupStyle ?? 'llmc',
  };
  const bad = (field: string, why: string): never => {
    throw new TrainError('TRAIN_BAD_CONFIG', `schedule.${field}: ${why}`, { details: { field: `schedule.${field}` } });
  };
  if (!['cosine', 'linear', 'constant', 'wsd'].includes(o.kind)) bad('kind', `must be cosine, linear, constant or wsd, got "${o.kind}"`);
  if (!(Number.isFinite(o.maxLr) && o.maxLr >= 0)) bad('maxLr', `must be a non-negative number, got ${o.maxLr}`);
  if (!(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0)) bad('warmupSteps', `must be a non-negative integer, got ${o.warmupSteps}`);
  if (!(Number.isInteger(o.totalSteps) && o.totalSteps > 0)) bad('totalSteps', `must be a positive integer, got ${o.totalSteps}`);
  if (o.kind !== 'constant' && o.warmupSteps > o.totalSteps) bad('warmupSteps', `(${o.warmupSteps}) exceeds totalSteps (${o.totalSteps})`);
  if (!(o.finalLrFrac >= 0 && o.finalLrFrac <= 1)) bad('finalLrFrac', `must be in [0, 1], got ${o.finalLrFrac}`);
  if (!(o.decayFraction > 0 && o.decayFraction <= 1)) bad('decayFraction', `must be in (0, 1], got ${o.decayFraction}`);
  if (o.warmupStyle !== 'llmc' && o.warmupStyle !== 'nanogpt') bad('warmupStyle', `must be llmc or nanogpt, got "${o.warmupStyle}"`);
  return o;
}

/**
 * Learning rate at optimizer step `step` (0-based). Warmup ramps linearly; then
 * cosine: `min + ½(1+cos πr)(max−min)`, linear: `max − r(max−min)`, constant: `max`,
 * wsd: constant until `(1−decayFraction)·totalSteps`, then `min + (1−√r)(max−min)`,
 * where r is the fraction of the decay phase done. After totalSteps the LR stays at min.
 *
 * @example
 * learningRateAt(100, { kind: 'cosine', maxLr: 6e-4, warmupSteps: 10, totalSteps: 1000 });
 */
export function learningRateAt(step: number, options: ScheduleOptions): number {
  return createSchedule(options).at(step);
}

/** Resolves `options` once and returns a schedule to query per step. */
export function createSchedule(options: ScheduleOptions): LrSchedule {
  const o = resolveScheduleOptions(options);
  const minLr = o.maxLr * o.finalLrFrac;
  const warmup = (step: number): number =>
    o.warmupStyle === 'llmc' ? (o.maxLr * (step + 1)) / o.warmupSteps : (o.maxLr * (step + 1)) / (o.warmupSteps + 1);
  return {
    options: o,
    at(step: number): number {
      if (o.kind === 'constant') return step < o.warmupSteps ? warmup(step) : o.maxLr;
      if (o.kind === 'wsd') {
        const decayStart = Math.floor((1 - o.decayFraction) * o.totalSteps);
        if (step < o.warmupSteps) return warmup(step);
        if (step < decayStart) return o.maxLr;
        const r = Math.min(1, (step - decayStart) / Math.max(1, o.totalSteps - decayStart));
        return minLr + (1 - Math.sqrt(r)) * (o.maxLr - minLr);
      }
      if (step < o.warmupSteps) return warmup(step);
      if (step >= o.totalSteps) return minLr;
      const r = o.totalSteps === o.warmupSteps ? 1 : (step - o.warmupSteps) / (o.totalSteps - o.warmupSteps);
      if (o.kind === 'linear') return o.maxLr - r * (o.maxLr - minLr);
      return minLr + 0.5 * (1 + Math.cos(Math.PI * r)) * (o.maxLr - minLr);
    },
  };
}
