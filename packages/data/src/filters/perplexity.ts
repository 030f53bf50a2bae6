// Perplexity filter (CCNet): score documents with an n-gram LM trained on a reference corpus and bucket them head / middle / tail.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { DataError } from '../errors.js';
import { NGramLM } from './ngram-lm.js';

/** CCNet's quality buckets: head = most reference-like (lowest perplexity). */
export type PerplexityBucket = 'head' | 'middle' | 'tail';

/** Options of {@link perplexityFilter}. */
export interface PerplexityOptions {
  /** The model, or a path to one saved with cut-offs (see {@link calibratePerplexity}). Required. */
  model: NGramLM | string;
  /** Buckets to keep. Default ['head', 'middle'] (CCNet publishes all three; most users drop the tail). */
  keep?: readonly PerplexityBucket[];
  /** Perplexity cut-offs [head/middle, middle/tail]; default the model's stored 30th/60th percentiles. */
  cutoffs?: readonly [number, number];
}

/** Percentile (linear interpolation) of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const x = (sorted.length - 1) * p;
  const lo = Math.floor(x);
  const hi = Math.ceil(x);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

/**
 * Stores CCNet cut-offs in the model: the 30th and 60th percentiles of the perplexities of `reference`
 * documents (held out from training). Returns them.
 */
export function calibratePerplexity(lm: NGramLM, reference: Iterable<string>, percentiles: readonly [number, number] = [0.3, 0.6]): [number, number] {
  const pps = [...reference].map((t) => lm.perplexity(t)).filter(Number.isFinite).sort((a, b) => a - b);
  const cut: [number, number] = [percentile(pps, percentiles[0]), percentile(pps, percentiles[1])];
  lm.extra.cutoffs = cut;
  return cut;
}

/** The bucket of a perplexity given [p30, p60] cut-offs: head < p30 ≤ middle < p60 ≤ tail. */
export function perplexityBucket(pp: number, cutoffs: readonly [number, number]): PerplexityBucket {
  return pp < cutoffs[0] ? 'head' : pp < cutoffs[1] ? 'middle' : 'tail';
}

/** Sets `meta.perplexity` and `meta.perplexity_bucket`; drops documents outside `keep` (`perplexity_<bucket>`). */
export function perplexityFilter(options: PerplexityOptions): Step {
  const keep = new Set(options.keep ?? ['head', 'middle']);
  let lm = typeof options.model === 'string' ? undefined : options.model;
  let cutoffs = options.cutoffs;
  return {
    name: 'perplexity',
    async init() {
      if (lm === undefined) lm = await NGramLM.load(options.model as string);
      cutoffs ??= lm.extra.cutoffs as [number, number] | undefined;
      if (!Array.isArray(cutoffs) || cutoffs.length !== 2) {
        throw new DataError('DATA_BAD_MODEL', 'perplexity filter: the model has no stored cut-offs and none were given', {
          hint: 'call calibratePerplexity(lm, heldOutReferenceTexts) before lm.save(), or pass cutoffs: [p30, p60]',
        });
      }
    },
    process(doc: Document): Document | Drop {
      if (lm === undefined || cutoffs === undefined) throw new DataError('DATA_STEP_NOT_INITIALIZED', 'perplexity filter used before init()');
      const pp = lm.perplexity(doc.text);
      const bucket = perplexityBucket(pp, cutoffs);
      doc.meta.perplexity = pp;
      doc.meta.perplexity_bucket = bucket;
      return keep.has(bucket) ? doc : drop(`perplexity_${bucket}`, pp);
    },
  };
}
