// BERT-style masked language modeling: corrupt 15% of tokens (80% [MASK], 10% random, 10% kept) and predict them.
import { TrainError } from '../errors.js';
import type { SeededRng } from '../rng.js';
import { IGNORE_INDEX, type Objective, type ObjectiveBatch } from './objective.js';

/** Options for {@link maskedLm}. */
export interface MaskedLmOptions {
  /** Id of the [MASK] token (outside the data's vocabulary). Required. */
  maskTokenId: number;
  /** Random replacements are drawn from [0, dataVocabSize). Required. */
  dataVocabSize: number;
  /** Probability that a position is selected for prediction. Default 0.15. */
  maskProb?: number;
  /** Of the selected: fraction replaced by [MASK]. Default 0.8. */
  maskFraction?: number;
  /** Of the selected: fraction replaced by a random token. Default 0.1 (the rest stays unchanged). */
  randomFraction?: number;
  /** Token ids never selected (e.g. document separators). Default none. */
  specialIds?: readonly number[];
}

/**
 * Masked LM as BERT (and Hugging Face's DataCollatorForLanguageModeling) does it: each
 * position is selected independently with probability 0.15; a selected token becomes
 * [MASK] with p 0.8, a uniformly random token with p 0.1, or stays as it is; only selected
 * positions carry a target. The model attends bidirectionally.
 */
export function maskedLm(options: MaskedLmOptions): Objective {
  const maskProb = options.maskProb ?? 0.15;
  const maskFraction = options.maskFraction ?? 0.8;
  const randomFraction = options.randomFraction ?? 0.1;
  if (!(maskProb > 0 && maskProb < 1)) throw new TrainError('TRAIN_BAD_CONFIG', `mlm.maskProb must be in (0, 1), got ${maskProb}`, { details: { field: 'mlm.maskProb' } });
  if (!(maskFraction >= 0 && randomFraction >= 0 && maskFraction + randomFraction <= 1)) {
    throw new TrainError('TRAIN_BAD_CONFIG', `mlm.maskFraction + mlm.randomFraction must be within [0, 1], got ${maskFraction} + ${randomFraction}`);
  }
  if (!(Number.isInteger(options.dataVocabSize) && options.dataVocabSize > 0)) {
    throw new TrainError('TRAIN_BAD_CONFIG', `mlm.dataVocabSize must be a positive integer, got ${options.dataVocabSize}`);
  }
  const special = new Set(options.specialIds ?? []);
  return {
    name: 'mlm',
    causal: false,
    windowLength: (seqLen) => seqLen,
    makeBatch(windows: Int32Array, batchSize: number, seqLen: number, rng: SeededRng): ObjectiveBatch {
      const n = batchSize * seqLen;
      const inputIds = windows.slice(0, n);
      const targets = new Int32Array(n).fill(IGNORE_INDEX);
      let targetCount = 0;
      for (let i = 0; i < n; i++) {
        const token = inputIds[i];
        if (special.has(token) || rng.float() >= maskProb) continue;
        targets[i] = token;
        targetCount++;
        const r = rng.float();
        if (r < maskFraction) inputIds[i] = options.maskTokenId;
        else if (r < maskFraction + randomFraction) inputIds[i] = rng.int(options.dataVocabSize);
      }
      return { inputIds, targets, batchSize, seqLen, targetCount };
    },
  };
}
