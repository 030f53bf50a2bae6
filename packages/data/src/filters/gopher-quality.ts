// Gopher quality filter (Rae et al. 2021), with datatrove's `GopherQualityFilter` semantics and defaults.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { isAlphaChar } from '../text/chars.js';
import { countOccurrences, isNonSymbolWord, splitLines, splitWords } from '../text/words.js';

/** Options of {@link gopherQualityFilter}; `null` disables a rule. Defaults are the paper's / datatrove's. */
export interface GopherQualityOptions {
  /** Minimum number of non-symbol words. Default 50. */
  minDocWords?: number | null;
  /** Maximum number of non-symbol words. Default 100 000. */
  maxDocWords?: number | null;
  /** Minimum mean length of non-symbol words, in characters. Default 3. */
  minAvgWordLength?: number | null;
  /** Maximum mean length of non-symbol words. Default 10. */
  maxAvgWordLength?: number | null;
  /** Maximum `#` per word and (`...` + `…`) per word. Default 0.1. */
  maxSymbolWordRatio?: number | null;
  /** Maximum fraction of lines starting with `•` or `-`. Default 0.9. */
  maxBulletLinesRatio?: number | null;
  /** Maximum fraction of lines ending with `...` or `…`. Default 0.3. */
  maxEllipsisLinesRatio?: number | null;
  /** Minimum fraction of words with at least one letter. Default 0.8. */
  minAlphaWordsRatio?: number | null;
  /** Minimum number of stop-word occurrences. Default 2. */
  minStopWords?: number | null;
  /** The stop words. Default Gopher's {the, be, to, of, and, that, have, with}. */
  stopWords?: readonly string[];
}

/** Gopher's stop words. */
export const GOPHER_STOP_WORDS = ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'] as const;

/**
 * Drops documents that fail any Gopher quality rule; reasons are datatrove's (`gopher_short_doc`,
 * `gopher_below_avg_threshold`, `gopher_too_many_hashes`, ...). Words come from {@link splitWords}
 * (punctuation tokens count as words, as with datatrove's NLTK tokenizer).
 */
export function gopherQualityFilter(options: GopherQualityOptions = {}): Step {
  const o = {
    minDocWords: 50,
    maxDocWords: 100_000,
    minAvgWordLength: 3,
    maxAvgWordLength: 10,
    maxSymbolWordRatio: 0.1,
    maxBulletLinesRatio: 0.9,
    maxEllipsisLinesRatio: 0.3,
    minAlphaWordsRatio: 0.8,
    minStopWords: 2,
    ...options,
  };
  const stop = new Set(options.stopWords ?? GOPHER_STOP_WORDS);
  return {
    name: 'gopher_quality',
    process(doc: Document): Document | Drop {
      const text = doc.text;
      const words = splitWords(text);
      const nWords = words.length;
      let nonSymbol = 0;
      let nonSymbolChars = 0;
      let alphaWords = 0;
      let stopCount = 0;
      for (const w of words) {
        if (isNonSymbolWord(w)) {
          nonSymbol++;
          nonSymbolChars += w.length;
        }
        if (hasAlpha(w)) alphaWords++;
        if (stop.has(w)) stopCount++;
      }
      if (o.minDocWords !== null && nonSymbol < o.minDocWords) return drop('gopher_short_doc', nonSymbol);
      if (o.maxDocWords !== null && nonSymbol > o.maxDocWords) return drop('gopher_long_doc', nonSymbol);
      const avg = nonSymbol === 0 ? 0 : nonSymbolChars / nonSymbol;
      if (o.minAvgWordLength !== null && avg < o.minAvgWordLength) return drop('gopher_below_avg_threshold', avg);
      if (o.maxAvgWordLength !== null && avg > o.maxAvgWordLength) return drop('gopher_above_avg_threshold', avg);
      if (o.maxSymbolWordRatio !== null && nWords > 0) {
        const hashes = countOccurrences(text, '#') / nWords;
        if (hashes > o.maxSymbolWordRatio) return drop('gopher_too_many_hashes', hashes);
        const ellipsis = (countOccurrences(text, '...') + countOccurrences(text, '…')) / nWords;
        if (ellipsis > o.maxSymbolWordRatio) return drop('gopher_too_many_ellipsis', ellipsis);
      }
      const lines = splitLines(text);
      if (o.maxBulletLinesRatio !== null) {
        let bullets = 0;
        for (const l of lines) {
          const t = l.trimStart();
          if (t.startsWith('•') || t.startsWith('-')) bullets++;
        }
        if (bullets / lines.length > o.maxBulletLinesRatio) return drop('gopher_too_many_bullets', bullets / lines.length);
      }
      if (o.maxEllipsisLinesRatio !== null) {
        let ell = 0;
        for (const l of lines) {
          const t = l.trimEnd();
          if (t.endsWith('...') || t.endsWith('…')) ell++;
        }
        if (ell / lines.length > o.maxEllipsisLinesRatio) return drop('gopher_too_many_end_ellipsis', ell / lines.length);
      }
      if (o.minAlphaWordsRatio !== null && nWords > 0 && alphaWords / nWords < o.minAlphaWordsRatio) {
        return drop('gopher_below_alpha_threshold', alphaWords / nWords);
      }
      if (o.minStopWords !== null && stopCount < o.minStopWords) return drop('gopher_enough_stop_words', stopCount);
      return doc;
    },
  };
}

function hasAlpha(w: string): boolean {
  for (let i = 0; i < w.length; i++) if (isAlphaChar(w.charCodeAt(i))) return true;
  return false;
}
