// Rule-based sentence splitting (Punkt-like heuristics without a trained model): returns sentence spans.

/** A sentence as a half-open character range of the source text. */
export interface Span {
  /** Start offset (inclusive). */
  start: number;
  /** End offset (exclusive), trailing whitespace excluded. */
  end: number;
}

// NOTE: lowercase, without the final dot; a "." after one of these does not end a sentence.
const ABBREVIATIONS = new Set(
  'mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al fig figs no nos vol vols p pp ed eds gen col lt sgt capt cmdr rev hon gov sen rep pres jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp dept est approx u.s u.k a.m p.m'.split(' '),
);

const CLOSERS = new Set([34, 39, 41, 93, 125, 0x201d, 0x2019, 0xbb]); // " ' ) ] } ” ’ »

/**
 * Splits text into sentences: a sentence ends at `.`, `!`, `?` or `…` (plus closing quotes/brackets)
 * followed by whitespace, unless the dot ends a known abbreviation, a single-letter initial or a
 * number; a newline always ends a sentence. Linear time.
 *
 * @example splitSentences('Dr. Smith came. He left!').map(s => text.slice(s.start, s.end))
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  const n = text.length;
  let start = skipSpace(text, 0);
  let i = start;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      push(spans, text, start, i);
      start = skipSpace(text, i + 1);
      i = start;
      continue;
    }
    if (c === 46 || c === 33 || c === 63 || c === 0x2026) {
      let j = i + 1;
      while (j < n && (text.charCodeAt(j) === 46 || text.charCodeAt(j) === 33 || text.charCodeAt(j) === 63)) j++;
      while (j < n && CLOSERS.has(text.charCodeAt(j))) j++;
      const next = text.charCodeAt(j);
      if (j >= n || next === 32 || next === 9 || next === 10 || next === 13) {
        if (!(c === 46 && j === i + 1 && isAbbreviation(text, start, i))) {
          push(spans, text, start, j);
          start = skipSpace(text, j);
          i = start;
          continue;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  push(spans, text, start, n);
  return spans;
}

function isAbbreviation(text: string, sentenceStart: number, dot: number): boolean {
  let k = dot;
  while (k > sentenceStart && !isBoundary(text.charCodeAt(k - 1))) k--;
  const word = text.slice(k, dot).toLowerCase();
  if (word.length === 0) return false;
  if (word.length === 1 && /[a-z]/.test(word)) return true; // an initial: "J. Smith"
  return ABBREVIATIONS.has(word);
}

function isBoundary(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 40 || c === 34 || c === 39;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

function push(spans: Span[], text: string, start: number, end: number): void {
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (end > start) spans.push({ start, end });
}
