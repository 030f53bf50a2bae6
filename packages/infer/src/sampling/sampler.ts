// Picking the next token: the processors a config asks for, then argmax (greedy) or a seeded draw.
import type { ResolvedGenerationConfig } from '../config.js';
import { applyProcessors, softmaxRow, type LogitsProcessor } from './processor.js';
import { minPProcessor } from './min-p.js';
import { repetitionPenaltyProcessor } from './repetition-penalty.js';
import { temperatureProcessor } from './temperature.js';
import { topKProcessor } from './top-k.js';
import { topPProcessor } from './top-p.js';

/** A source of uniform numbers in [0, 1) (e.g. `createRng(seed)` from @lmkit/tensor). */
export interface UniformSource {
  random(): number;
}

/**
 * The processors a config implies, in Hugging Face's order: repetition penalty (always), then, when
 * sampling, temperature → top-k → top-p → min-p.
 */
export function processorsFor(config: ResolvedGenerationConfig): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (config.repetition_penalty !== 1) list.push(repetitionPenaltyProcessor(config.repetition_penalty));
  if (config.do_sample) {
    if (config.temperature !== 1) list.push(temperatureProcessor(config.temperature));
    if (config.top_k > 0) list.push(topKProcessor(config.top_k));
    if (config.top_p < 1) list.push(topPProcessor(config.top_p));
    if (config.min_p > 0) list.push(minPProcessor(config.min_p));
  }
  return list;
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Draws an index from a probability row with one uniform number. */
export function drawFrom(probs: Float32Array, u: number): number {
  let acc = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    acc += probs[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // NOTE: float rounding can leave acc slightly below 1; the last nonzero token takes the rest.
}

/** Chooses the next token for one sequence; `logits` is modified in place by the processors. */
export function chooseToken(
  logits: Float32Array,
  ids: ArrayLike<number>,
  config: ResolvedGenerationConfig,
  rng: UniformSource,
  processors: readonly LogitsProcessor[] = processorsFor(config),
): number {
  applyProcessors(processors, logits, { ids });
  if (!config.do_sample) return argmax(logits);
  return drawFrom(softmaxRow(logits), rng.random());
}
