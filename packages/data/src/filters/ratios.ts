// Character and line ratio statistics filter (NeMo Curator / dolma heuristics: symbols, digits, uppercase, whitespace, line length).
import { drop, type Document, type Drop, type Step } from '../types.js';
import { isDigitChar, isSpaceChar, isUpperChar, isWordChar, isAlphaChar } from '../text/chars.js';
import { countOccurrences, splitWords } from '../text/words.js';

/** Thresholds of {@link ratioFilter}; each is off (null) unless set, except the NeMo defaults noted. */
export interface RatioOptions {
  /** Max (`#` + `...` + `…`) per word (Gopher symbol-to-word). Default 0.1. */
  maxSymbolWordRatio?: number | null;
  /** Max non-alphanumeric, non-space characters ÷ characters. Default 0.25 (NeMo). */
  maxNonAlphaNumericRatio?: number | null;
  /** Max digits ÷ characters. Default 0.15 (NeMo). */
  maxDigitRatio?: number | null;
  /** Max uppercase letters ÷ letters. Default null (off). */
  maxUppercaseRatio?: number | null;
  /** Max whitespace ÷ characters. Default 0.25 (NeMo). */
  maxWhitespaceRatio?: number | null;
  /** Max parentheses/brackets ÷ characters. Default 0.1 (NeMo). */
  maxParenthesesRatio?: number | null;
  /** Max length of a word in characters. Default 1000 (NeMo). */
  maxWordLength?: number | null;
  /** Min mean non-empty line length in characters. Default null (off). */
  minMeanLineLength?: number | null;
  /** Max length of any line in characters. Default null (off). */
  maxLineLength?: number | null;
}

/** All ratios the filter looks at, for reports and for callers that only want statistics. */
export interface TextRatios {
  /** (`#` + `...` + `…`) per word. */
  symbolWord: number;
  /** Non-space characters that are not letters, digits or marks ÷ characters. */
  nonAlphaNumeric: number;
  /** ASCII digits ÷ characters. */
  digit: number;
  /** Uppercase letters ÷ letters. */
  uppercase: number;
  /** Whitespace ÷ characters. */
  whitespace: number;
  /** `()[]{}` ÷ characters. */
  parentheses: number;
  /** Longest word, in characters. */
  longestWord: number;
  /** Mean length of non-empty lines. */
  meanLineLength: number;
  /** Longest line, in characters. */
  longestLine: number;
}

/** Computes {@link TextRatios} in one pass over the characters (plus the shared word split). */
export function textRatios(text: string): TextRatios {
  const n = text.length || 1;
  let nonAlnum = 0, digits = 0, upper = 0, letters = 0, spaces = 0, parens = 0;
  let lineLen = 0, longestLine = 0, lines = 0, lineChars = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (lineLen > 0) { lines++; lineChars += lineLen; }
      lineLen = 0;
    } else lineLen++;
    if (lineLen > longestLine) longestLine = lineLen;
    if (isSpaceChar(c)) { spaces++; continue; }
    if (isDigitChar(c)) digits++;
    if (isAlphaChar(c)) { letters++; if (isUpperChar(c)) upper++; }
    if (!isWordChar(c)) nonAlnum++;
    if (c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125) parens++;
  }
  if (lineLen > 0) { lines++; lineChars += lineLen; }
  const words = splitWords(text);
  let longestWord = 0;
  for (const w of words) if (w.length > longestWord) longestWord = w.length;
  const symbols = countOccurrences(text, '#') + countOccurrences(text, '...') + countOccurrences(text, '…');
  return {
    symbolWord: symbols / Math.max(1, words.length),
    nonAlphaNumeric: nonAlnum / n,
    digit: digits / n,
    uppercase: letters === 0 ? 0 : upper / letters,
    whitespace: spaces / n,
    parentheses: parens / n,
    longestWord,
    meanLineLength: lines === 0 ? 0 : lineChars / lines,
    longestLine,
  };
}

/** Drops documents whose ratios cross a threshold; reason `ratio_<name>` with the measured value. */
export function ratioFilter(options: RatioOptions = {}): Step {
  const o = {
    maxSymbolWordRatio: 0.1,
    maxNonAlphaNumericRatio: 0.25,
    maxDigitRatio: 0.15,
    maxUppercaseRatio: null,
    maxWhitespaceRatio: 0.25,
    maxParenthesesRatio: 0.1,
    maxWordLength: 1000,
    minMeanLineLength: null,
    maxLineLength: null,
    ...options,
  };
  return {
    name: 'ratios',
    process(doc: Document): Document | Drop {
      const r = textRatios(doc.text);
      if (o.maxSymbolWordRatio !== null && r.symbolWord > o.maxSymbolWordRatio) return drop('ratio_symbol_word', r.symbolWord);
      if (o.maxNonAlphaNumericRatio !== null && r.nonAlphaNumeric > o.maxNonAlphaNumericRatio) return drop('ratio_non_alphanumeric', r.nonAlphaNumeric);
      if (o.maxDigitRatio !== null && r.digit > o.maxDigitRatio) return drop('ratio_digit', r.digit);
      if (o.maxUppercaseRatio !== null && r.uppercase > o.maxUppercaseRatio) return drop('ratio_uppercase', r.uppercase);
      if (o.maxWhitespaceRatio !== null && r.whitespace > o.maxWhitespaceRatio) return drop('ratio_whitespace', r.whitespace);
      if (o.maxParenthesesRatio !== null && r.parentheses > o.maxParenthesesRatio) return drop('ratio_parentheses', r.parentheses);
      if (o.maxWordLength !== null && r.longestWord > o.maxWordLength) return drop('ratio_word_length', r.longestWord);
      if (o.minMeanLineLength !== null && r.meanLineLength < o.minMeanLineLength) return drop('ratio_mean_line_length', r.meanLineLength);
      if (o.maxLineLength !== null && r.longestLine > o.maxLineLength) return drop('ratio_line_length', r.longestLine);
      return doc;
    },
  };
}
