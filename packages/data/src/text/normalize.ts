// Text normalization for de-duplication keys: datatrove's `simplify_text` (lowercase, numbers → 0, punctuation → space, no accents, single spaces).
import { isSpaceChar, isWordChar } from './chars.js';

/** Options of {@link normalizeForDedup}; defaults are datatrove's `TextNormConfig` defaults. */
export interface NormalizeOptions {
  /** Lowercase the text. Default true. */
  lowercase?: boolean;
  /** Replace every number (`\d+(\.\d+)?`) with `0`. Default true. */
  normNumbers?: boolean;
  /** Replace punctuation and symbols with a space. Default true. */
  removePunctuation?: boolean;
  /** Decompose (NFD) and drop combining marks, so "café" → "cafe". Default true. */
  removeAccents?: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}/gu;

/**
 * Normalizes text the way datatrove does before MinHash and sentence hashing, in one linear pass
 * after the Unicode steps: words end up separated by exactly one space, no leading/trailing space.
 *
 * @example normalizeForDedup('Café  No. 12.5, opened!') // 'cafe no 0 opened'
 */
export function normalizeForDedup(text: string, options: NormalizeOptions = {}): string {
  const { lowercase = true, normNumbers = true, removePunctuation = true, removeAccents = true } = options;
  let s = lowercase ? text.toLowerCase() : text;
  if (removeAccents && NON_ASCII.test(s)) s = s.normalize('NFD').replace(MARKS, '');
  const n = s.length;
  const out: number[] = [];
  let pendingSpace = false;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (normNumbers && c >= 48 && c <= 57) {
      i++;
      while (i < n && isDigit(s.charCodeAt(i))) i++;
      if (i + 1 < n && s.charCodeAt(i) === 46 && isDigit(s.charCodeAt(i + 1))) {
        i += 2;
        while (i < n && isDigit(s.charCodeAt(i))) i++;
      }
      if (pendingSpace && out.length > 0) out.push(32);
      pendingSpace = false;
      out.push(48);
      continue;
    }
    if (isSpaceChar(c) || (removePunctuation && !isWordChar(c))) {
      pendingSpace = true;
      i++;
      continue;
    }
    if (pendingSpace && out.length > 0) out.push(32);
    pendingSpace = false;
    out.push(c);
    i++;
  }
  return fromCodes(out);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function fromCodes(codes: number[]): string {
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode.apply(null, codes.slice(i, i + 8192));
  return s;
}

/**
 * CCNet's line normalization for line-level hashing: lowercase, digits → 0, accents and punctuation removed,
 * whitespace collapsed. Equivalent to {@link normalizeForDedup} except digits map one-to-one.
 */
export function normalizeLine(line: string): string {
  return normalizeForDedup(line.replace(/[0-9]/g, '0'), { normNumbers: false });
}
