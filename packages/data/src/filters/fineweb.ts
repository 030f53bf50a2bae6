// FineWeb's custom quality filter (datatrove `FineWebQualityFilter`), with its published defaults.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { splitWords } from '../text/words.js';
import { findDuplicates } from './gopher-repetition.js';

/** Options of {@link finewebFilter}; defaults are FineWeb's. */
export interface FineWebOptions {
  /** Minimum fraction of non-empty lines ending in terminal punctuation. Default 0.12. */
  linePunctThr?: number;
  /** Keep documents where no line ends in punctuation (ratio exactly 0). Default false. */
  linePunctExcludeZero?: boolean;
  /** Maximum fraction of lines with at most `shortLineLength` characters. Default 0.67. */
  shortLineThr?: number;
  /** What counts as a short line, in characters. Default 30. */
  shortLineLength?: number;
  /** Maximum characters in duplicated lines ÷ non-newline characters. Default 0.01. */
  charDuplicatesRatio?: number;
  /** Maximum newlines per word (list-like pages). Default 0.3. */
  newLineRatio?: number;
  /** Characters that end a sentence. Default {@link TERMINAL_PUNCTUATION} (datatrove's set). */
  stopChars?: readonly string[];
}

/**
 * datatrove's TERMINAL_PUNCTUATION: the Unicode Sentence_Terminal characters (`.` `!` `?` `。` `।` `؟` …,
 * 170 of them) plus the closing quotes `"` and `”`. Note that `…`, `;` and `:` are not terminal.
 * Tested against one character (a code point), e.g. the last one of a line.
 */
export const TERMINAL_PUNCTUATION = /^[\p{Sentence_Terminal}"\u201d]$/u;

/** The last code point of a string ('' for an empty one). */
function lastCodePoint(s: string): string {
  const n = s.length;
  if (n === 0) return '';
  const c = s.charCodeAt(n - 1);
  return c >= 0xdc00 && c <= 0xdfff && n > 1 ? s.slice(n - 2) : s[n - 1];
}

/** Drops pages FineWeb's filter rejects: `empty`, `line_punct_ratio`, `short_line_ratio`, `char_dup_ratio`, `list_ratio`. */
export function finewebFilter(options: FineWebOptions = {}): Step {
  const o = {
    linePunctThr: 0.12,
    linePunctExcludeZero: false,
    shortLineThr: 0.67,
    shortLineLength: 30,
    charDuplicatesRatio: 0.01,
    newLineRatio: 0.3,
    ...options,
  };
  const custom = options.stopChars === undefined ? undefined : new Set(options.stopChars);
  const isStop = (ch: string): boolean => (custom === undefined ? TERMINAL_PUNCTUATION.test(ch) : custom.has(ch));
  return {
    name: 'fineweb',
    process(doc: Document): Document | Drop {
      const text = doc.text;
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      if (lines.length === 0) return drop('empty');
      let punct = 0;
      let short = 0;
      for (const l of lines) {
        if (isStop(lastCodePoint(l))) punct++;
        if (l.length <= o.shortLineLength) short++;
      }
      const punctRatio = punct / lines.length;
      if (punctRatio < o.linePunctThr && !(punctRatio === 0 && o.linePunctExcludeZero)) return drop('line_punct_ratio', punctRatio);
      if (short / lines.length > o.shortLineThr) return drop('short_line_ratio', short / lines.length);
      let newlines = 0;
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines++;
      const dupRatio = findDuplicates(lines)[1] / Math.max(1, text.length - newlines);
      if (dupRatio > o.charDuplicatesRatio) return drop('char_dup_ratio', dupRatio);
      const words = splitWords(text).length;
      if (newlines / Math.max(1, words) > o.newLineRatio) return drop('list_ratio', newlines / Math.max(1, words));
      return doc;
    },
  };
}
