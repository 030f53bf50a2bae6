// A seeded, serializable random number generator (xoshiro128**) used for init, dropout and sampling.
import { TensorError } from './errors.js';

/** The serializable state of an Rng. */
export interface RngState {
  /** Four 32-bit words of xoshiro128** state. */
  s: [number, number, number, number];
}

/**
 * A seeded RNG: `uint32()`, `random()` in [0, 1), `normal()`; `state()` / `Rng.fromState()` make runs resumable.
 *
 * @example
 * const rng = createRng(42); const saved = rng.state(); rng.random(); Rng.fromState(saved).random(); // same value
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s: readonly number[]) {
    this.s0 = s[0] >>> 0;
    this.s1 = s[1] >>> 0;
    this.s2 = s[2] >>> 0;
    this.s3 = s[3] >>> 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator seeded from a number via splitmix32. */
  static fromSeed(seed: number): Rng {
    let x = (Math.floor(seed) ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      s.push((z ^ (z >>> 16)) >>> 0);
    }
    return new Rng(s);
  }

  /** Restores a generator saved with `state()`. */
  static fromState(state: RngState): Rng {
    return new Rng(state.s);
  }

  /**
   * Restores a state saved with `state()` into this generator in place, so every holder of it (a
   * model's dropout, a sampler) continues the saved stream bit-exactly. Throws `TENSOR_BAD_ARGUMENT`
   * unless `state.s` is four 32-bit unsigned integers.
   *
   * @example
   * const saved = rng.state(); rng.random(); rng.setState(saved); // the same draws again
   */
  setState(state: RngState): void {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new TensorError('TENSOR_BAD_ARGUMENT', `Rng.setState: expected { s: [four uint32 words] }, got ${JSON.stringify(state)}`, {
        hint: 'pass the object rng.state() returned (e.g. read back from a checkpoint)',
      });
    }
    this.s0 = s[0] >>> 0;
    this.s1 = s[1] >>> 0;
    this.s2 = s[2] >>> 0;
    this.s3 = s[3] >>> 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A copy of the current state (JSON-serializable). */
  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** Next uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  random(): number {
    return this.uint32() / 4294967296;
  }

  /** Standard normal (Box–Muller; one draw per call so the state stays four words). */
  normal(): number {
    const u1 = (this.uint32() + 1) / 4294967297; // (0, 1]
    const u2 = this.uint32() / 4294967296;
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A seeded Rng. */
export function createRng(seed: number): Rng {
  return Rng.fromSeed(seed);
}
