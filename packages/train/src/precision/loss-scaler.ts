// Dynamic loss scaling with torch.cuda.amp.GradScaler semantics, for fp16 training.

/** Options for {@link LossScaler}; defaults are GradScaler's. */
export interface LossScalerOptions {
  /** Initial scale S₀. Default 2¹⁶. */
  initScale?: number;
  /** Multiplier after `growthInterval` clean steps. Default 2. */
  growthFactor?: number;
  /** Multiplier on overflow. Default 0.5. */
  backoffFactor?: number;
  /** Clean steps before the scale grows. Default 2000. */
  growthInterval?: number;
}

/** Serializable scaler state (stored in checkpoints). */
export interface LossScalerState {
  /** Current scale S. */
  scale: number;
  /** Clean steps since the last change of S. */
  growthTracker: number;
}

/**
 * Multiplies the loss by S before backward, then: if any gradient is Inf/NaN the step is
 * skipped and S halves; otherwise gradients are divided by S, the step runs, and S doubles
 * after 2000 clean steps in a row.
 *
 * @example
 * const scaler = new LossScaler();
 * loss.mul(scaler.scale).backward();
 * const overflow = scaler.unscale(grads);
 * if (!overflow) optimizer.step(lr);
 * scaler.update(overflow);
 */
export class LossScaler {
  /** Options with defaults filled in. */
  readonly options: Readonly<Required<LossScalerOptions>>;
  private s: number;
  private tracker = 0;

  constructor(options: LossScalerOptions = {}) {
    this.options = {
      initScale: options.initScale ?? 2 ** 16,
      growthFactor: options.growthFactor ?? 2,
      backoffFactor: options.backoffFactor ?? 0.5,
      growthInterval: options.growthInterval ?? 2000,
    };
    this.s = this.options.initScale;
  }

  /** The current scale S. */
  get scale(): number {
    return this.s;
  }

  /**
   * Divides gradients by S in place and reports whether any is Inf/NaN (then the caller must skip
   * the step; the gradients are left as they are). Call once per optimizer step.
   */
  unscale(grads: readonly Float32Array[]): boolean {
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) {
        if (!Number.isFinite(g[i])) return true;
      }
    }
    const inv = 1 / this.s;
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) g[i] *= inv;
    }
    return false;
  }

  /** Updates S after a step: halve on overflow, double after `growthInterval` clean steps. */
  update(foundOverflow: boolean): void {
    if (foundOverflow) {
      this.s *= this.options.backoffFactor;
      this.tracker = 0;
      return;
    }
    this.tracker += 1;
    if (this.tracker === this.options.growthInterval) {
      this.s *= this.options.growthFactor;
      this.tracker = 0;
    }
  }

  /** The state to checkpoint. */
  state(): LossScalerState {
    return { scale: this.s, growthTracker: this.tracker };
  }

  /** Restores {@link LossScaler.state}. */
  loadState(state: LossScalerState): void {
    this.s = state.scale;
    this.tracker = state.growthTracker;
  }
}
