import { describe, expect, it } from 'vitest';
import { normalizeForDedup, normalizeLine } from './normalize.js';
import { splitSentences } from './sentences.js';
import { countOccurrences, isNonSymbolWord, splitWords, wordIds } from './words.js';

describe('splitWords', () => {
  it('keeps punctuation as tokens and joins word-internal marks', () => {
    expect(splitWords("Hi, U.S. friends... don't re-run 3.14 or 1,000!")).toEqual(['Hi', ',', 'U.S', '.', 'friends', '...', "don't", 're-run', '3.14', 'or', '1,000', '!']);
    expect(splitWords('  ')).toEqual([]);
    expect(splitWords('naïve café — Zürich')).toEqual(['naïve', 'café', '—', 'Zürich']);
  });
  it('classifies symbol tokens and maps words to ids', () => {
    expect(['...', '#', '—', 'a', '3'].map(isNonSymbolWord)).toEqual([false, false, false, true, true]);
    const { ids, lengths } = wordIds(['ab', 'c', 'ab']);
    expect(Array.from(ids)).toEqual([0, 1, 0]);
    expect(Array.from(lengths)).toEqual([2, 1]);
    expect(countOccurrences('a....b…', '...')).toBe(1);
  });
});

describe('normalizeForDedup (datatrove simplify_text)', () => {
  it('lowercases, maps numbers to 0, punctuation to spaces, strips accents, collapses spaces', () => {
    expect(normalizeForDedup('Café  No. 12.5, opened in 1999!')).toBe('cafe no 0 opened in 0');
    expect(normalizeForDedup('  Hello\n\tWORLD—again  ')).toBe('hello world again');
    expect(normalizeLine('Tel 555-1234 Ünïcode!')).toBe('tel 000 0000 unicode');
  });
});

describe('splitSentences', () => {
  it('splits on terminal punctuation and newlines, not after abbreviations, initials or decimals', () => {
    const text = 'Dr. Smith met J. R. Ewing at 3.30 p.m. on Monday. He left! Did she? "Yes." Next line\nNew line.';
    const out = splitSentences(text).map((s) => text.slice(s.start, s.end));
    expect(out).toEqual(['Dr. Smith met J. R. Ewing at 3.30 p.m. on Monday.', 'He left!', 'Did she?', '"Yes."', 'Next line', 'New line.']);
  });
});
