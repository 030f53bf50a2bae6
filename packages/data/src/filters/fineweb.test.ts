import { describe, expect, it } from 'vitest';
import { finewebFilter, TERMINAL_PUNCTUATION } from './fineweb.js';
import { uniqueWords, verdict } from './test-helpers.js';

const f = finewebFilter();
/** A unique line of 8 words (about 50 characters), with or without a final period. */
const line = (i: number, punct: boolean): string => uniqueWords(8, 5, i * 8).join(' ') + (punct ? '.' : '');

describe('finewebFilter (FineWeb defaults)', () => {
  it('lines ending in terminal punctuation ≥ 0.12', async () => {
    const doc = (k: number): string => Array.from({ length: 25 }, (_, i) => line(i, i < k)).join('\n');
    expect(await verdict(f, doc(3))).toBe('keep'); // 3 / 25 = 0.12
    expect(await verdict(f, doc(2))).toBe('line_punct_ratio');
    expect(await verdict(finewebFilter({ linePunctExcludeZero: true }), doc(0))).toBe('keep');
  });

  it('short lines (≤ 30 chars) ≤ 0.67', async () => {
    const doc = (short: number): string => Array.from({ length: 100 }, (_, i) => (i < short ? uniqueWords(3, 5, 1000 + i * 3).join(' ') + '.' : line(i, true))).join('\n');
    expect(await verdict(f, doc(67))).toBe('keep');
    expect(await verdict(f, doc(68))).toBe('short_line_ratio');
  });

  it('duplicated line characters ÷ non-newline characters ≤ 0.01', async () => {
    const dup = 'x'.repeat(9) + '.';
    // 99 unique lines of 50 chars (+ dup twice): dup chars 10 / (99×50 + 20)
    const base = Array.from({ length: 99 }, (_, i) => line(i, true));
    expect(await verdict(f, [...base, dup, dup].join('\n'))).toBe('keep'); // 10 / 4970 ≈ 0.002
    const dup60 = 'y'.repeat(59) + '.';
    const few = Array.from({ length: 9 }, (_, i) => line(i, true));
    expect(await verdict(f, [...few, dup60, dup60].join('\n'))).toBe('char_dup_ratio'); // 60 / 570
  });

  it('newlines per word ≤ 0.3', async () => {
    // 10 lines of "aaaaa bbbbb cc." = 4 tokens each: 9 newlines / 40 words = 0.225 keep; 2-token lines: 9 / 20 = 0.45 drop
    const ok = Array.from({ length: 10 }, (_, i) => uniqueWords(6, 6, i * 6).join(' ') + '.').join('\n');
    expect(await verdict(finewebFilter({ shortLineThr: 1 }), ok)).toBe('keep');
    const listy = Array.from({ length: 10 }, (_, i) => uniqueWords(1, 6, i)[0] + '.').join('\n');
    expect(await verdict(finewebFilter({ shortLineThr: 1 }), listy)).toBe('list_ratio');
  });

  it('terminal punctuation is datatrove\'s: Sentence_Terminal plus closing quotes, not "…" or ";"', () => {
    for (const ch of ['.', '!', '?', '。', '।', '؟', '"', '\u201d', '\u{11141}']) expect(TERMINAL_PUNCTUATION.test(ch)).toBe(true);
    for (const ch of ['…', ';', ':', ',', "'", 'a']) expect(TERMINAL_PUNCTUATION.test(ch)).toBe(false);
  });

  it('empty documents are dropped', async () => {
    expect(await verdict(f, '\n  \n')).toBe('empty');
  });
});
