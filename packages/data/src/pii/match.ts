// The shape every PII detector returns, and the context guards (dolma/StarCoder) they share.

/** Kinds of personal data the redactor knows. */
export type PiiType = 'email' | 'phone' | 'ip' | 'credit_card' | 'iban' | 'address' | 'name';

/** One detected span of personal data. */
export interface PiiMatch {
  /** What it is. */
  type: PiiType;
  /** Start offset in the text (inclusive). */
  start: number;
  /** End offset (exclusive). */
  end: number;
}

/** A detector finds the spans of one kind of PII in a text. */
export type PiiDetector = (text: string) => PiiMatch[];

const GUARD_WORDS = ['isbn', 'doi', '#'];

/**
 * dolma's false-positive guard: true when the `radius` characters before or after the span mention
 * "isbn", "doi" or "#", which makes a digit run a reference number rather than a phone or IP.
 */
export function inReferenceContext(text: string, start: number, end: number, radius = 100): boolean {
  const ctx = text.slice(Math.max(0, start - radius), Math.min(text.length, end + radius)).toLowerCase();
  return GUARD_WORDS.some((w) => ctx.includes(w));
}

/** True when one of `words` (lowercase) occurs within `radius` characters of the span. */
export function nearWord(text: string, start: number, end: number, words: readonly string[], radius = 50): boolean {
  const ctx = text.slice(Math.max(0, start - radius), Math.min(text.length, end + radius)).toLowerCase();
  return words.some((w) => ctx.includes(w));
}

/** True when the code unit at `i` is a letter or digit (or out of range: false). */
export function isAlnumAt(text: string, i: number): boolean {
  if (i < 0 || i >= text.length) return false;
  const c = text.charCodeAt(i);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c > 127 && /[\p{L}\p{N}]/u.test(text[i]));
}
