// A word n-gram language model with interpolated Kneser-Ney (or stupid-backoff) smoothing, trained on a reference corpus, saved as JSON.
import { readFile } from 'node:fs/promises';
import { atomicWriteFile } from '@lmkit/core';
import { DataError } from '../errors.js';
import { splitLines, splitWords } from '../text/words.js';

/** Options of {@link NGramLM.train}. */
export interface NGramOptions {
  /** Model order (CCNet uses 5 with KenLM; 3 suits corpora of a few MB). Default 3. */
  order?: number;
  /** `kneser-ney` (interpolated, absolute discount) or `stupid-backoff` (Brants et al. 2007, α = 0.4; scores, not probabilities). Default 'kneser-ney'. */
  smoothing?: 'kneser-ney' | 'stupid-backoff';
  /** Kneser-Ney discount D. Default 0.75. */
  discount?: number;
  /** Words seen fewer times become `<unk>`. Default 2. */
  minCount?: number;
}

const BOS = '<s>';
const EOS = '</s>';
const UNK = '<unk>';

/** Lowercased word tokens of one line (the LM's tokenization). */
export function lmTokens(line: string): string[] {
  return splitWords(line.toLowerCase());
}

/** Serialized form (JSON). */
interface NGramFile {
  format: 'lmkit-ngram';
  version: 1;
  order: number;
  smoothing: 'kneser-ney' | 'stupid-backoff';
  discount: number;
  vocab: string[];
  /** Per order k (index k−1): [key, count] pairs; keys are comma-joined word ids. Order N holds raw counts, lower orders continuation counts (KN) or raw counts (SB). */
  counts: Array<Array<[string, number]>>;
  /** Extra data stored by callers (e.g. perplexity percentiles). */
  extra?: Record<string, unknown>;
}

/**
 * Word n-gram LM. Kneser-Ney: P(w|h) = max(c(h,w) − D, 0)/c(h) + D·N₁₊(h•)/c(h)·P(w|h′), lower orders on
 * continuation counts, the unigram level interpolated with a uniform distribution over the vocabulary
 * (so unseen words get mass). Sentences are lines, padded with `<s>` and closed with `</s>`.
 */
export class NGramLM {
  /** Data saved alongside the model (e.g. perplexity cut-offs). */
  extra: Record<string, unknown> = {};
  private readonly ids = new Map<string, number>();
  private readonly ctxTotal: Array<Map<string, number>> = [];
  private readonly ctxTypes: Array<Map<string, number>> = [];

  private constructor(
    readonly order: number,
    readonly smoothing: 'kneser-ney' | 'stupid-backoff',
    readonly discount: number,
    private readonly vocab: string[],
    private readonly counts: Array<Map<string, number>>,
  ) {
    vocab.forEach((w, i) => this.ids.set(w, i));
    for (let k = 0; k < order; k++) {
      const total = new Map<string, number>();
      const types = new Map<string, number>();
      for (const [key, c] of counts[k]) {
        const ctx = k === 0 ? '' : key.slice(0, key.lastIndexOf(','));
        total.set(ctx, (total.get(ctx) ?? 0) + c);
        types.set(ctx, (types.get(ctx) ?? 0) + 1);
      }
      this.ctxTotal.push(total);
      this.ctxTypes.push(types);
    }
  }

  /** Trains on an iterable of texts (each split into lines = sentences). */
  static train(texts: Iterable<string>, options: NGramOptions = {}): NGramLM {
    const order = options.order ?? 3;
    const smoothing = options.smoothing ?? 'kneser-ney';
    const minCount = options.minCount ?? 2;
    const sentences: string[][] = [];
    const freq = new Map<string, number>();
    for (const text of texts) {
      for (const line of splitLines(text)) {
        const toks = lmTokens(line);
        if (toks.length === 0) continue;
        sentences.push(toks);
        for (const t of toks) freq.set(t, (freq.get(t) ?? 0) + 1);
      }
    }
    const vocab = [BOS, EOS, UNK, ...[...freq].filter(([, c]) => c >= minCount).map(([w]) => w).sort()];
    const ids = new Map(vocab.map((w, i) => [w, i]));
    const top = new Map<string, number>();
    for (const s of sentences) {
      const seq = [...new Array(order - 1).fill(0), ...s.map((w) => ids.get(w) ?? 2), 1];
      for (let i = order - 1; i < seq.length; i++) {
        const key = seq.slice(i - order + 1, i + 1).join(',');
        top.set(key, (top.get(key) ?? 0) + 1);
      }
    }
    const counts: Array<Map<string, number>> = new Array(order);
    counts[order - 1] = top;
    for (let k = order - 1; k >= 1; k--) {
      // Lower order k: continuation count (KN) = distinct left extensions; raw count (SB) = summed counts.
      const lower = new Map<string, number>();
      for (const [key, c] of counts[k]) {
        const suffix = key.slice(key.indexOf(',') + 1);
        lower.set(suffix, (lower.get(suffix) ?? 0) + (smoothing === 'kneser-ney' ? 1 : c));
      }
      counts[k - 1] = lower;
    }
    return new NGramLM(order, smoothing, options.discount ?? 0.75, vocab, counts);
  }

  /** Natural-log probability (KN) or log score (SB) of `word` after the context ids. */
  private logProb(ctx: number[], w: number): number {
    if (this.smoothing === 'stupid-backoff') {
      let penalty = 0;
      for (let k = Math.min(ctx.length, this.order - 1); k >= 0; k--) {
        const h = ctx.slice(ctx.length - k).join(',');
        const c = this.counts[k].get(k === 0 ? String(w) : `${h},${w}`);
        if (c !== undefined) return penalty + Math.log(c / this.ctxTotal[k].get(h)!);
        penalty += Math.log(0.4);
      }
      return penalty + Math.log(1 / (this.ctxTotal[0].get('')! + this.vocab.length));
    }
    const D = this.discount;
    const uniform = 1 / (this.vocab.length - 1); // NOTE: <s> is never predicted
    const n1 = this.ctxTotal[0].get('') ?? 0;
    let p = (Math.max((this.counts[0].get(String(w)) ?? 0) - D, 0) + D * (this.ctxTypes[0].get('') ?? 0) * uniform) / Math.max(n1, 1);
    if (n1 === 0) p = uniform;
    for (let k = 1; k <= Math.min(ctx.length, this.order - 1); k++) {
      const h = ctx.slice(ctx.length - k).join(',');
      const total = this.ctxTotal[k].get(h);
      if (total === undefined) continue;
      const c = this.counts[k].get(`${h},${w}`) ?? 0;
      p = Math.max(c - D, 0) / total + ((D * this.ctxTypes[k].get(h)!) / total) * p;
    }
    return Math.log(p);
  }

  /** P(word | context words) under Kneser-Ney (a score under stupid backoff); unknown words map to `<unk>`. */
  probability(context: readonly string[], word: string): number {
    const id = (w: string): number => this.ids.get(w) ?? 2;
    return Math.exp(this.logProb(context.map(id), id(word)));
  }

  /** The vocabulary, `<s>`, `</s>` and `<unk>` first. */
  get words(): readonly string[] {
    return this.vocab;
  }

  /** Σ log10 P over the tokens (plus `</s>` per line) and the token count, CCNet-style. */
  score(text: string): { log10Prob: number; tokens: number } {
    let logSum = 0;
    let tokens = 0;
    for (const line of splitLines(text)) {
      const toks = lmTokens(line);
      if (toks.length === 0) continue;
      const seq = [...new Array(this.order - 1).fill(0), ...toks.map((t) => this.ids.get(t) ?? 2), 1];
      for (let i = this.order - 1; i < seq.length; i++) {
        logSum += this.logProb(seq.slice(i - this.order + 1, i), seq[i]);
        tokens++;
      }
    }
    return { log10Prob: logSum / Math.LN10, tokens };
  }

  /** CCNet perplexity: 10^(−Σ log10 p / Σ (words + 1)); Infinity for a text without words. */
  perplexity(text: string): number {
    const { log10Prob, tokens } = this.score(text);
    return tokens === 0 ? Infinity : 10 ** (-log10Prob / tokens);
  }

  /** Writes the model as JSON (atomically). */
  async save(path: string): Promise<void> {
    const file: NGramFile = {
      format: 'lmkit-ngram',
      version: 1,
      order: this.order,
      smoothing: this.smoothing,
      discount: this.discount,
      vocab: this.vocab,
      counts: this.counts.map((m) => [...m]),
      extra: this.extra,
    };
    await atomicWriteFile(path, JSON.stringify(file));
  }

  /** Loads a model written by {@link NGramLM.save}. */
  static async load(path: string): Promise<NGramLM> {
    let file: NGramFile;
    try {
      file = JSON.parse(await readFile(path, 'utf8')) as NGramFile;
    } catch (cause) {
      throw new DataError('DATA_BAD_MODEL', `${path}: cannot read the n-gram model`, { hint: 'train one with NGramLM.train(...).save(path)', details: { path }, cause });
    }
    if (file.format !== 'lmkit-ngram' || file.version !== 1 || !Array.isArray(file.counts) || file.counts.length !== file.order) {
      throw new DataError('DATA_BAD_MODEL', `${path}: not an lmkit n-gram model (format ${String(file.format)}, version ${String(file.version)})`, {
        hint: 'train one with NGramLM.train(...).save(path)',
        details: { path },
      });
    }
    const lm = new NGramLM(file.order, file.smoothing, file.discount, file.vocab, file.counts.map((c) => new Map(c)));
    lm.extra = file.extra ?? {};
    return lm;
  }
}
