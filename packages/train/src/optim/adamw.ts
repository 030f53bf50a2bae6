// AdamW over flat Float32Array parameter and gradient buffers, with torch's update formula and bias correction.
import { TrainError } from '../errors.js';

/** One parameter as the optimizer sees it: fp32 master values and their gradient, both flat. */
export interface OptimParam {
  /** Stable name (the model's state-dict key); optimizer state is stored under it. */
  readonly name: string;
  /** Logical shape; decides weight decay (≥ 2 dims decay by default). */
  readonly shape: readonly number[];
  /** fp32 master values, updated in place by `step()`. */
  readonly data: Float32Array;
  /** Gradient of the loss with respect to `data` (already unscaled and clipped). */
  readonly grad: Float32Array;
}

/** Options for {@link AdamW}. */
export interface AdamWOptions {
  /** Learning rate used when `step()` gets none (normally the schedule passes one). Default 3e-4. */
  lr?: number;
  /** β1, β2. Default [0.9, 0.95] (nanoGPT / llm.c; torch's default is 0.999). */
  betas?: [number, number];
  /** Added to √v̂. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, applied as `p ← p·(1 − lr·wd)` on decayed parameters. Default 0.1. */
  weightDecay?: number;
  /** Which parameters decay. Default: those with ≥ 2 dims (matrices and embeddings; not biases or norm gains). */
  decays?: (name: string, shape: readonly number[]) => boolean;
}

/** Serializable optimizer state: the step count and first/second moments by parameter name. */
export interface AdamWState {
  /** Number of updates applied so far (torch's `state['step']`). */
  step: number;
  /** First moments m, by parameter name. */
  m: Record<string, Float32Array>;
  /** Second moments v, by parameter name. */
  v: Record<string, Float32Array>;
}

/** Default weight-decay rule: decay matrices and embeddings, never 1-D tensors. */
export function decaysByRank(_name: string, shape: readonly number[]): boolean {
  return shape.length >= 2;
}

/**
 * AdamW as torch implements it (`torch.optim.AdamW`, non-amsgrad): for each parameter,
 * `p ← p(1 − lr·wd)`, `m ← β1 m + (1−β1) g`, `v ← β2 v + (1−β2) g²`,
 * `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`.
 *
 * @example
 * const opt = new AdamW(params, { weightDecay: 0.1 });
 * opt.step(schedule.at(step));
 */
export class AdamW {
  /** The options with defaults filled in. */
  readonly options: Readonly<Required<Omit<AdamWOptions, 'decays'>>>;
  private readonly params: readonly OptimParam[];
  private readonly decayMask: boolean[];
  private m: Float32Array[];
  private v: Float32Array[];
  private t = 0;

  constructor(params: readonly OptimParam[], options: AdamWOptions = {}) {
    this.options = {
      lr: options.lr ?? 3e-4,
      betas: options.betas ?? [0.9, 0.95],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.1,
    };
    const [b1, b2] = this.options.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) {
      throw new TrainError('TRAIN_BAD_CONFIG', `optimizer.betas must be in [0, 1), got [${b1}, ${b2}]`, { details: { field: 'optimizer.betas' } });
    }
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new TrainError('TRAIN_BAD_CONFIG', `optimizer: parameter "${p.name}" appears twice`);
      names.add(p.name);
      if (p.data.length !== p.grad.length) {
        throw new TrainError('TRAIN_SHAPE_MISMATCH', `optimizer: "${p.name}" has ${p.data.length} values but ${p.grad.length} gradients`);
      }
    }
    this.params = params;
    const decays = options.decays ?? decaysByRank;
    this.decayMask = params.map((p) => decays(p.name, p.shape));
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) => new Float32Array(p.data.length));
  }

  /** Number of updates applied so far. */
  get stepCount(): number {
    return this.t;
  }

  /** Whether parameter `name` gets weight decay. */
  decays(name: string): boolean {
    const i = this.params.findIndex((p) => p.name === name);
    return i >= 0 && this.decayMask[i];
  }

  /** Applies one update to every parameter with learning rate `lr` (default: options.lr). */
  step(lr: number = this.options.lr): void {
    this.t += 1;
    const [b1, b2] = this.options.betas;
    const { eps, weightDecay } = this.options;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, this.t));
    const stepSize = lr / bc1;
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k];
      const m = this.m[k];
      const v = this.v[k];
      const shrink = this.decayMask[k] ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        const denom = Math.sqrt(vi) / bc2Sqrt + eps;
        p[i] = p[i] * shrink - (stepSize * mi) / denom;
      }
    }
  }

  /** A copy of the optimizer state, keyed by parameter name. */
  stateDict(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    this.params.forEach((p, k) => {
      m[p.name] = this.m[k].slice();
      v[p.name] = this.v[k].slice();
    });
    return { step: this.t, m, v };
  }

  /** Restores state written by {@link AdamW.stateDict}; every parameter must be present with its size. */
  loadStateDict(state: AdamWState): void {
    if (!(Number.isInteger(state.step) && state.step >= 0)) {
      throw new TrainError('TRAIN_BAD_CHECKPOINT', `optimizer state: step must be a non-negative integer, got ${state.step}`);
    }
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    for (const p of this.params) {
      const pm = state.m[p.name];
      const pv = state.v[p.name];
      if (!pm || !pv) {
        throw new TrainError('TRAIN_BAD_CHECKPOINT', `optimizer state has no moments for parameter "${p.name}"`, {
          hint: 'the checkpoint was written for a different model; start without --resume or use the matching config',
        });
      }
      if (pm.length !== p.data.length || pv.length !== p.data.length) {
        throw new TrainError('TRAIN_BAD_CHECKPOINT', `optimizer state for "${p.name}" has ${pm.length} values, the parameter has ${p.data.length}`, {
          hint: 'the checkpoint was written for a different model shape',
        });
      }
      m.push(Float32Array.from(pm));
      v.push(Float32Array.from(pv));
    }
    this.m = m;
    this.v = v;
    this.t = state.step;
  }
}
