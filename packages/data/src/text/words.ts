// Word splitting shared by the filters: a linear-time, Treebank-like tokenizer that keeps punctuation as tokens.
import { isSpaceChar, isWordChar } from './chars.js';

/**
 * Splits text into words the way datatrove's English word tokenizer (NLTK) roughly does, in one pass:
 * a word is a run of letters/digits/marks, joined across `'`, `-`, `.`, `,` and `:` when both sides are
 * word characters ("don't", "well-known", "U.S.", "3.14", "1,000", "10:30"); every other non-space
 * character becomes its own token, except that runs of the same punctuation ("...", "!!", "--") stay
 * together. No regex, so no backtracking.
 *
 * @example splitWords('Hi, U.S. friends...') // ['Hi', ',', 'U.S', '.', 'friends', '...']
 */
export function splitWords(text: string): string[] {
  if (text === lastText) return lastWords;
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpaceChar(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isWordChar(c)) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isWordChar(d)) i++;
        else if ((d === 39 || d === 45 || d === 46 || d === 44 || d === 58 || d === 0x2019) && i + 1 < n && isWordChar(text.charCodeAt(i + 1))) i += 2;
        else break;
      }
    } else {
      i++;
      while (i < n && text.charCodeAt(i) === c) i++;
    }
    out.push(text.slice(start, i));
  }
  lastText = text;
  lastWords = out;
  return out;
}

// NOTE: filters in one pipeline split the same text several times; a one-entry cache makes that free.
let lastText: string | undefined;
let lastWords: string[] = [];

/** True when the token holds at least one letter, digit or mark (datatrove's "non-symbol word"). */
export function isNonSymbolWord(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (isWordChar(word.charCodeAt(i))) return true;
  return false;
}

/** Splits text on `\n` (the datatrove `splitlines` equivalent for `\n`, `\r\n` and `\r`). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Maps each word to a small integer id (per call), so n-gram statistics can work on numbers.
 * Returns the ids and the character length of each distinct id.
 */
export function wordIds(words: readonly string[]): { ids: Int32Array; lengths: Int32Array } {
  const dict = new Map<string, number>();
  const ids = new Int32Array(words.length);
  const lens: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let id = dict.get(w);
    if (id === undefined) {
      id = lens.length;
      dict.set(w, id);
      lens.push(w.length);
    }
    ids[i] = id;
  }
  return { ids, lengths: Int32Array.from(lens) };
}

/** Non-overlapping occurrences of `needle` in `text` (Python's `str.count`). */
export function countOccurrences(text: string, needle: string): number {
  let n = 0;
  let i = text.indexOf(needle);
  while (i !== -1) {
    n++;
    i = text.indexOf(needle, i + needle.length);
  }
  return n;
}
