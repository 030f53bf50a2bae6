// T5-style span corruption with sentinel tokens, laid out for a decoder-only model (inputs then targets).
import { TrainError } from '../errors.js';
import type { SeededRng } from '../rng.js';
import { IGNORE_INDEX, type Objective, type ObjectiveBatch } from './objective.js';

/** Options for {@link spanCorruption}. */
export interface SpanCorruptionOptions {
  /** The model's vocabulary size; sentinels are the top ids, `<extra_id_k>` = vocabSize − 1 − k, as in T5. Required. */
  vocabSize: number;
  /** Fraction of tokens corrupted. Default 0.15. */
  noiseDensity?: number;
  /** Mean corrupted span length. Default 3. */
  meanSpanLength?: number;
  /** Sentinels available (spans per example cannot exceed it). Default 100 (T5's extra_ids). */
  numSentinels?: number;
  /** Id used to pad the sequence end (never a target). Default 0. */
  padId?: number;
}

/** Noise/non-noise span lengths of one example, alternating non-noise first (T5's random_spans_noise_mask). */
export interface SpanLayout {
  /** Lengths of kept spans (one per noise span). */
  keep: number[];
  /** Lengths of corrupted spans. */
  noise: number[];
}

function segmentation(items: number, segments: number, rng: SeededRng): number[] {
  // NOTE: T5 shuffles (segments−1) cut markers over the items−1 gaps; each segment gets ≥ 1 item.
  const cuts = new Uint8Array(Math.max(0, items - 1));
  for (let i = 0; i < segments - 1; i++) cuts[i] = 1;
  for (let i = cuts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = cuts[i];
    cuts[i] = cuts[j];
    cuts[j] = t;
  }
  const lengths: number[] = [];
  let run = 1;
  for (let i = 0; i < cuts.length; i++) {
    if (cuts[i]) {
      lengths.push(run);
      run = 1;
    } else run++;
  }
  lengths.push(run);
  return lengths;
}

/** Number of noise tokens and spans for a window of `length` tokens. */
export function spanCounts(length: number, noiseDensity = 0.15, meanSpanLength = 3): { noiseTokens: number; spans: number } {
  const noiseTokens = Math.min(Math.max(Math.round(length * noiseDensity), 1), length - 1);
  const spans = Math.max(Math.round(noiseTokens / meanSpanLength), 1);
  return { noiseTokens, spans };
}

/** Draws a span layout for `length` tokens (T5's random_spans_noise_mask). */
export function randomSpanLayout(length: number, rng: SeededRng, noiseDensity = 0.15, meanSpanLength = 3): SpanLayout {
  const { noiseTokens, spans } = spanCounts(length, noiseDensity, meanSpanLength);
  return { noise: segmentation(noiseTokens, spans, rng), keep: segmentation(length - noiseTokens, spans, rng) };
}

/**
 * Span corruption as in T5: about 15% of tokens, in spans of mean length 3, are each replaced
 * by one sentinel in the input; the target lists each sentinel followed by the tokens it hid.
 * For a decoder-only model the example is `inputs ++ targets` trained causally, with loss on
 * the target part only (UL2's decoder-only layout); T5 appends EOS, we do not.
 *
 * @example
 * const span = spanCorruption({ vocabSize: 384 }); // sentinels 383, 382, ...
 */
export function spanCorruption(options: SpanCorruptionOptions): Objective {
  const noiseDensity = options.noiseDensity ?? 0.15;
  const meanSpan = options.meanSpanLength ?? 3;
  const numSentinels = options.numSentinels ?? 100;
  const padId = options.padId ?? 0;
  if (!(noiseDensity > 0 && noiseDensity < 1)) throw new TrainError('TRAIN_BAD_CONFIG', `span.noiseDensity must be in (0, 1), got ${noiseDensity}`, { details: { field: 'span.noiseDensity' } });
  if (!(meanSpan >= 1)) throw new TrainError('TRAIN_BAD_CONFIG', `span.meanSpanLength must be ≥ 1, got ${meanSpan}`, { details: { field: 'span.meanSpanLength' } });
  if (!(Number.isInteger(options.vocabSize) && options.vocabSize > numSentinels)) {
    throw new TrainError('TRAIN_BAD_CONFIG', `span: vocabSize ${options.vocabSize} leaves no room for ${numSentinels} sentinels`, { details: { field: 'vocabSize' } });
  }
  // Raw tokens L such that inputs (L − noise + spans) + targets (noise + spans) = L + 2·spans ≤ T + 1.
  const windowFor = (seqLen: number): number => {
    for (let L = seqLen + 1; L > 2; L--) {
      const { spans } = spanCounts(L, noiseDensity, meanSpan);
      if (L + 2 * spans <= seqLen + 1 && spans <= numSentinels) return L;
    }
    throw new TrainError('TRAIN_BAD_CONFIG', `span: seqLen ${seqLen} is too short for span corruption`, { details: { field: 'seqLen' } });
  };
  const sentinel = (k: number): number => options.vocabSize - 1 - k;
  return {
    name: 'span',
    causal: true,
    windowLength: windowFor,
    makeBatch(windows: Int32Array, batchSize: number, seqLen: number, rng: SeededRng): ObjectiveBatch {
      const L = windowFor(seqLen);
      const inputIds = new Int32Array(batchSize * seqLen);
      const targets = new Int32Array(batchSize * seqLen).fill(IGNORE_INDEX);
      const seq = new Int32Array(seqLen + 1);
      let targetCount = 0;
      for (let b = 0; b < batchSize; b++) {
        const w = windows.subarray(b * L, (b + 1) * L);
        const layout = randomSpanLayout(L, rng, noiseDensity, meanSpan);
        // inputs: kept spans with one sentinel per noise span
        let o = 0;
        let src = 0;
        for (let k = 0; k < layout.noise.length; k++) {
          for (let i = 0; i < layout.keep[k]; i++) seq[o++] = w[src++];
          seq[o++] = sentinel(k);
          src += layout.noise[k];
        }
        const inputLen = o;
        // targets: each sentinel followed by the tokens it replaced
        src = 0;
        for (let k = 0; k < layout.noise.length; k++) {
          src += layout.keep[k];
          seq[o++] = sentinel(k);
          for (let i = 0; i < layout.noise[k]; i++) seq[o++] = w[src++];
        }
        const used = o;
        seq.fill(padId, used);
        const row = b * seqLen;
        inputIds.set(seq.subarray(0, seqLen), row);
        // position i predicts seq[i+1]; loss only where seq[i+1] is in the target part
        for (let i = inputLen - 1; i < used - 1; i++) {
          targets[row + i] = seq[i + 1];
          targetCount++;
        }
      }
      return { inputIds, targets, batchSize, seqLen, targetCount };
    },
  };
}
