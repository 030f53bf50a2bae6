// Dropout as a module: zeroes elements with probability p in training mode and rescales by 1/(1−p).
import { dropout, type Rng, type Tensor } from '@lmkit/tensor';
import { Module } from '../module.js';

/** Inverted dropout with a seeded RNG (so runs are reproducible and resumable). */
export class Dropout extends Module {
  /** Drop probability. */
  readonly p: number;
  private readonly rng: Rng;

  constructor(p: number, rng: Rng) {
    super();
    this.p = p;
    this.rng = rng;
  }

  /** Identity in eval mode or when p = 0. */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, this.rng, true);
  }
}
