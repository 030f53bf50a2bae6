// A small real model for Trainer tests: a bigram softmax (logits = W[x] + b) with an exact analytic backward.
import type { BackwardOptions, TrainableModel, TrainableParam } from '../src/trainable-model.js';
import type { ObjectiveBatch } from '../src/objectives/objective.js';
import { IGNORE_INDEX } from '../src/objectives/objective.js';
import { SeededRng } from '../src/rng.js';

/** Bigram language model over `vocab` ids; `nanAtCall` makes the n-th lossAndBackward return NaN (for tests). */
export class BigramModel implements TrainableModel {
  readonly w: TrainableParam;
  readonly b: TrainableParam;
  calls = 0;
  constructor(readonly vocab: number, seed = 0, readonly nanAtCall = -1) {
    const rng = new SeededRng(seed);
    this.w = { name: 'w.weight', shape: [vocab, vocab], data: Float32Array.from({ length: vocab * vocab }, () => 0.02 * rng.normal()), grad: new Float32Array(vocab * vocab) };
    this.b = { name: 'b.bias', shape: [vocab], data: new Float32Array(vocab), grad: new Float32Array(vocab) };
  }
  parameters(): readonly TrainableParam[] {
    return [this.w, this.b];
  }
  zeroGrad(): void {
    this.w.grad.fill(0);
    this.b.grad.fill(0);
  }
  private run(batch: ObjectiveBatch, scale: number | null): number {
    const V = this.vocab;
    const n = batch.targetCount;
    const p = new Float64Array(V);
    let loss = 0;
    for (let i = 0; i < batch.inputIds.length; i++) {
      const t = batch.targets[i];
      if (t === IGNORE_INDEX) continue;
      const x = batch.inputIds[i];
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, (p[v] = this.w.data[x * V + v] + this.b.data[v]));
      let z = 0;
      for (let v = 0; v < V; v++) z += (p[v] = Math.exp(p[v] - max));
      loss -= Math.log(p[t] / z);
      if (scale !== null) {
        for (let v = 0; v < V; v++) {
          const g = ((p[v] / z - (v === t ? 1 : 0)) / n) * scale;
          this.w.grad[x * V + v] += g;
          this.b.grad[v] += g;
        }
      }
    }
    return loss / n;
  }
  lossAndBackward(batch: ObjectiveBatch, options: BackwardOptions): number {
    this.calls++;
    if (this.calls === this.nanAtCall) return NaN;
    return this.run(batch, options.lossScale);
  }
  evalLoss(batch: ObjectiveBatch): number {
    return this.run(batch, null);
  }
  config(): Record<string, unknown> {
    return { model_type: 'bigram', vocab_size: this.vocab };
  }
  flopsPerToken(): number {
    return 6 * this.vocab * (this.vocab + 1);
  }
}
