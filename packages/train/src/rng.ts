// The seeded, serializable random stream for data sampling and masking: @lmkit/tensor's xoshiro128**
// generator, with the draws training needs (unbiased integers, shuffles) and a plain-array state.
import { Rng } from '@lmkit/tensor';
import { TrainError } from './errors.js';

/** The serializable state of a {@link SeededRng}: four uint32 words. */
export type RngState = [number, number, number, number];

/**
 * xoshiro128** seeded through splitmix32 (tensor's `Rng`). Its whole state is four numbers, so a
 * training run can store it in a checkpoint and continue with exactly the same draws.
 *
 * @example
 * const rng = new SeededRng(42);
 * const i = rng.int(10); // 0..9
 * const again = SeededRng.fromState(rng.state());
 */
export class SeededRng {
  private rng: Rng;

  /** Seeds the generator from any integer (the same seed gives the same stream). */
  constructor(seed = 0) {
    this.rng = Rng.fromSeed(seed >>> 0);
  }

  /** Restores a generator from {@link SeededRng.state}. */
  static fromState(state: RngState): SeededRng {
    if (!Array.isArray(state) || state.length !== 4 || state.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
      throw new TrainError('TRAIN_BAD_RNG_STATE', `RNG state must be four uint32 numbers, got ${JSON.stringify(state)}`, {
        hint: 'the checkpoint is damaged or from another tool; start without --resume',
      });
    }
    const out = new SeededRng(0);
    out.rng = Rng.fromState({ s: [...state] as RngState });
    return out;
  }

  /** A copy of the current state. */
  state(): RngState {
    return [...this.rng.state().s] as RngState;
  }

  /** The next uniform uint32. */
  u32(): number {
    return this.rng.uint32();
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  float(): number {
    return this.rng.uint32() / 4294967296;
  }

  /** A uniform integer in [0, n) (n ≤ 2^32), without modulo bias. */
  int(n: number): number {
    if (!(n > 0 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.rng.uint32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}
