// Seeded random windows over token runs, with a resumable position (RNG state + windows drawn).
import { TrainError } from '../errors.js';
import { SeededRng, type RngState } from '../rng.js';
import type { TokenRun } from './token-dataset.js';

/** Where a sampler is: enough to continue with exactly the same windows after a restart. */
export interface SamplerState {
  /** RNG state after the last window drawn. */
  rng: RngState;
  /** Windows drawn so far. */
  windowsDrawn: number;
}

/**
 * Draws windows of `windowLength` tokens uniformly over every valid start position of every
 * run (so a longer shard is sampled proportionally more). Same seed → same windows.
 *
 * @example
 * const sampler = new WindowSampler(ds.train, 129, { seed: 1337 });
 * const x = sampler.next(8); // (8, 129) int32
 */
export class WindowSampler {
  private readonly runs: readonly TokenRun[];
  private readonly cumulative: number[];
  private rng: SeededRng;
  private drawn = 0;

  constructor(
    runs: readonly TokenRun[],
    /** Tokens per window. */
    readonly windowLength: number,
    options: { seed?: number; what?: string } = {},
  ) {
    const usable = runs.filter((r) => r.tokens.length >= windowLength);
    if (usable.length === 0) {
      const total = runs.reduce((n, r) => n + r.tokens.length, 0);
      throw new TrainError('TRAIN_DATA_TOO_SMALL', `${options.what ?? 'training data'}: no shard has ${windowLength} tokens for one window (found ${total} tokens in ${runs.length} run(s))`, {
        hint: 'add more text, or lower --seq-len',
        details: { windowLength, tokens: total },
      });
    }
    this.runs = usable;
    this.cumulative = [];
    let acc = 0;
    for (const r of usable) {
      acc += r.tokens.length - windowLength + 1;
      this.cumulative.push(acc);
    }
    this.rng = new SeededRng(options.seed ?? 1337);
  }

  /** Number of distinct windows (start positions). */
  get positions(): number {
    return this.cumulative[this.cumulative.length - 1];
  }

  /** The next `count` windows, (count, windowLength) row-major. */
  next(count: number): Int32Array {
    const out = new Int32Array(count * this.windowLength);
    const total = this.positions;
    for (let b = 0; b < count; b++) {
      let k = Math.floor(this.rng.float() * total);
      let lo = 0;
      let hi = this.cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.cumulative[mid] > k) hi = mid;
        else lo = mid + 1;
      }
      if (lo > 0) k -= this.cumulative[lo - 1];
      const tokens = this.runs[lo].tokens;
      for (let i = 0; i < this.windowLength; i++) out[b * this.windowLength + i] = tokens[k + i];
    }
    this.drawn += count;
    return out;
  }

  /** The position to store in a checkpoint. */
  state(): SamplerState {
    return { rng: this.rng.state(), windowsDrawn: this.drawn };
  }

  /** Continues from a stored position. */
  loadState(state: SamplerState): void {
    this.rng = SeededRng.fromState(state.rng);
    this.drawn = state.windowsDrawn;
  }
}

/**
 * Fixed validation windows: consecutive non-overlapping windows from the start of each run,
 * up to `maxWindows`, so every evaluation sees the same tokens.
 */
export function validationWindows(runs: readonly TokenRun[], windowLength: number, maxWindows: number): Int32Array[] {
  const windows: Int32Array[] = [];
  for (const r of runs) {
    for (let s = 0; s + windowLength <= r.tokens.length && windows.length < maxWindows; s += windowLength) {
      windows.push(Int32Array.from(r.tokens.subarray(s, s + windowLength)));
    }
  }
  return windows;
}
