// Data mixing: draw documents from several sources in given proportions up to a token budget, deterministically from a seed.
import { DataError } from './errors.js';
import type { Document } from './types.js';

/** One source of a mix. */
export interface MixSource {
  /** Name used in the report and in `meta.source`. */
  name: string;
  /** Relative weight: the share of tokens this source should get (normalized over all sources). */
  weight: number;
  /** Opens a fresh pass over the source (called again for another epoch when `repeat` allows it). */
  open: () => AsyncIterable<Document> | Iterable<Document>;
}

/** Options of {@link mixSources}. */
export interface MixOptions {
  /** Stop once this many tokens have been emitted. Required. */
  tokenBudget: number;
  /** Seed of the tie-breaking jitter, so the same inputs give the same mix. Default 0. */
  seed?: number;
  /** Tokens of a document. Default ⌈UTF-8 bytes / 4⌉ (an estimate; pass a real tokenizer's count). */
  countTokens?: (text: string) => number;
  /** Re-open an exhausted source (upsampling, counted as epochs) instead of dropping it from the mix. Default false. */
  repeat?: boolean;
}

/** Per-source outcome of a mix. */
export interface MixSourceReport {
  /** The source's name. */
  name: string;
  /** Requested share of tokens (weight / Σ weights). */
  targetShare: number;
  /** Achieved share of emitted tokens. */
  share: number;
  /** Tokens emitted from this source. */
  tokens: number;
  /** Documents emitted from this source. */
  documents: number;
  /** Passes started over the source (> 1 means it was repeated). */
  epochs: number;
  /** True when the source ran out (and was not repeated). */
  exhausted: boolean;
}

/** What {@link mixSources} did. */
export interface MixReport {
  /** Tokens emitted in all. */
  tokens: number;
  /** Documents emitted in all. */
  documents: number;
  /** One entry per source, in input order. */
  sources: MixSourceReport[];
}

/** A running mix: iterate it for the documents, read `report` at any time (final after iteration). */
export interface Mix extends AsyncIterable<Document> {
  readonly report: MixReport;
}

/**
 * Interleaves sources so that each one's share of emitted tokens tracks its weight: the next document
 * comes from the live source with the largest token deficit (weight × total − its tokens), ties broken
 * by a seeded jitter. Emits each document with `meta.source`. Deterministic for a given seed and inputs;
 * memory O(sources).
 */
export function mixSources(sources: readonly MixSource[], options: MixOptions): Mix {
  if (sources.length === 0) throw new DataError('DATA_MIX_NO_SOURCES', 'mix needs at least one source', { hint: 'pass one or more { name, weight, open }' });
  for (const s of sources) {
    if (!(s.weight > 0) || !Number.isFinite(s.weight)) {
      throw new DataError('DATA_MIX_BAD_WEIGHT', `mix source "${s.name}": weight ${s.weight} is not a positive number`, {
        hint: 'weights are relative shares, e.g. { web: 0.7, books: 0.3 }',
        details: { source: s.name, weight: s.weight },
      });
    }
  }
  if (!(options.tokenBudget > 0)) throw new DataError('DATA_MIX_BAD_BUDGET', `tokenBudget ${options.tokenBudget} must be positive`);
  const countTokens = options.countTokens ?? ((t: string) => Math.ceil(Buffer.byteLength(t) / 4));
  const totalWeight = sources.reduce((a, s) => a + s.weight, 0);
  const report: MixReport = {
    tokens: 0,
    documents: 0,
    sources: sources.map((s) => ({ name: s.name, targetShare: s.weight / totalWeight, share: 0, tokens: 0, documents: 0, epochs: 0, exhausted: false })),
  };
  let rng = (options.seed ?? 0) >>> 0;
  const jitter = (): number => {
    rng = (Math.imul(rng ^ (rng >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return (rng >>> 8) / 2 ** 24;
  };
  async function* run(): AsyncGenerator<Document> {
    const iters: Array<AsyncIterator<Document> | Iterator<Document> | undefined> = sources.map(() => undefined);
    const open = (i: number): AsyncIterator<Document> | Iterator<Document> => {
      const it = sources[i].open();
      report.sources[i].epochs++;
      const asyncIt = (it as AsyncIterable<Document>)[Symbol.asyncIterator];
      return asyncIt !== undefined ? asyncIt.call(it) : (it as Iterable<Document>)[Symbol.iterator]();
    };
    while (report.tokens < options.tokenBudget) {
      let best = -1;
      let bestScore = -Infinity;
      for (let i = 0; i < sources.length; i++) {
        const r = report.sources[i];
        if (r.exhausted) continue;
        const score = r.targetShare * (report.tokens + 1) - r.tokens + jitter() * 1e-6;
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      if (best < 0) break;
      const r = report.sources[best];
      iters[best] ??= open(best);
      let next = await iters[best]!.next();
      if (next.done && options.repeat && r.documents > 0) {
        iters[best] = open(best);
        next = await iters[best]!.next();
      }
      if (next.done) {
        r.exhausted = true;
        continue;
      }
      const doc = next.value;
      const tokens = countTokens(doc.text);
      r.tokens += tokens;
      r.documents++;
      report.tokens += tokens;
      report.documents++;
      for (const s of report.sources) s.share = report.tokens === 0 ? 0 : s.tokens / report.tokens;
      yield { ...doc, meta: { ...doc.meta, source: sources[best].name } };
    }
  }
  return { report, [Symbol.asyncIterator]: () => run() };
}
