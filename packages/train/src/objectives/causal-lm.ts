// Causal language modeling: predict token t+1 from tokens ≤ t (inputs and targets shifted by one).
import type { SeededRng } from '../rng.js';
import { IGNORE_INDEX, type Objective, type ObjectiveBatch } from './objective.js';

/**
 * GPT-style next-token prediction: a window of T+1 tokens gives inputs `w[0..T)` and
 * targets `w[1..T]`.
 *
 * @example
 * const batch = causalLm().makeBatch(windows, 8, 128, rng);
 */
export function causalLm(): Objective {
  return {
    name: 'clm',
    causal: true,
    windowLength: (seqLen) => seqLen + 1,
    makeBatch(windows: Int32Array, batchSize: number, seqLen: number, _rng: SeededRng): ObjectiveBatch {
      const w = seqLen + 1;
      const inputIds = new Int32Array(batchSize * seqLen);
      const targets = new Int32Array(batchSize * seqLen);
      let targetCount = 0;
      for (let b = 0; b < batchSize; b++) {
        inputIds.set(windows.subarray(b * w, b * w + seqLen), b * seqLen);
        targets.set(windows.subarray(b * w + 1, b * w + w), b * seqLen);
      }
      for (let i = 0; i < targets.length; i++) if (targets[i] !== IGNORE_INDEX) targetCount++;
      return { inputIds, targets, batchSize, seqLen, targetCount };
    },
  };
}
