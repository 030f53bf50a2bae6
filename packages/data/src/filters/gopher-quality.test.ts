import { describe, expect, it } from 'vitest';
import { gopherQualityFilter } from './gopher-quality.js';
import { uniqueWords, verdict } from './test-helpers.js';

const f = gopherQualityFilter();
/** `n` words: two stop words then 5-letter words (mean length ≈ 4.9, all alphabetic). */
const words = (n: number): string[] => ['the', 'and', ...uniqueWords(n - 2, 5)];

describe('gopherQualityFilter (datatrove defaults)', () => {
  it('min 50 non-symbol words', async () => {
    expect(await verdict(f, words(50).join(' '))).toBe('keep');
    expect(await verdict(f, words(49).join(' '))).toBe('gopher_short_doc');
  });

  it('max 100 000 non-symbol words', async () => {
    expect(await verdict(f, words(100_000).join(' '))).toBe('keep');
    expect(await verdict(f, words(100_001).join(' '))).toBe('gopher_long_doc');
  });

  it('mean word length between 3 and 10', async () => {
    const three = ['the', 'and', ...uniqueWords(48, 3)];
    expect(await verdict(f, three.join(' '))).toBe('keep');
    three[5] = 'ab';
    expect(await verdict(f, three.join(' '))).toBe('gopher_below_avg_threshold');
    // 6 + 46×10 + 2×17 = 500 characters over 50 words: exactly 10
    const ten = ['the', 'and', ...uniqueWords(46, 10), ...uniqueWords(2, 17)];
    expect(await verdict(f, ten.join(' '))).toBe('keep');
    ten[2] += 'x';
    expect(await verdict(f, ten.join(' '))).toBe('gopher_above_avg_threshold');
  });

  it('# per word ≤ 0.1 (a "#" is itself a word token)', async () => {
    expect(await verdict(f, [...words(54), ...'######'].join(' '))).toBe('keep'); // 6 / 60
    expect(await verdict(f, [...words(54), ...'#######'].join(' '))).toBe('gopher_too_many_hashes'); // 7 / 61
  });

  it('ellipses per word ≤ 0.1', async () => {
    const w = words(54);
    const withEllipses = (k: number): string => [...w.slice(0, 10), ...Array(k).fill('...'), ...w.slice(10)].join(' ');
    expect(await verdict(f, withEllipses(6))).toBe('keep');
    expect(await verdict(f, withEllipses(7))).toBe('gopher_too_many_ellipsis');
  });

  it('bullet lines ≤ 90 %', async () => {
    const lines = (bullets: number): string => Array.from({ length: 20 }, (_, i) => (i < bullets ? '- ' : '') + ['the', ...uniqueWords(9, 5, i * 9)].join(' ')).join('\n');
    expect(await verdict(f, lines(18))).toBe('keep');
    expect(await verdict(f, lines(19))).toBe('gopher_too_many_bullets');
  });

  it('lines ending in an ellipsis ≤ 30 %', async () => {
    const lines = (ell: number): string => Array.from({ length: 10 }, (_, i) => ['the', ...uniqueWords(9, 5, i * 9)].join(' ') + (i < ell ? '…' : '.')).join('\n');
    expect(await verdict(f, lines(3))).toBe('keep');
    expect(await verdict(f, lines(4))).toBe('gopher_too_many_end_ellipsis');
  });

  it('≥ 80 % of words contain a letter', async () => {
    const nums = (k: number): string[] => Array.from({ length: k }, (_, i) => String(100 + i));
    expect(await verdict(f, [...words(52), ...nums(13)].join(' '))).toBe('keep'); // 52 / 65 = 0.8
    expect(await verdict(f, [...words(52), ...nums(14)].join(' '))).toBe('gopher_below_alpha_threshold');
  });

  it('≥ 2 stop words', async () => {
    const w = uniqueWords(60, 5);
    expect(await verdict(f, ['the', 'of', ...w].join(' '))).toBe('keep');
    expect(await verdict(f, ['the', ...w].join(' '))).toBe('gopher_enough_stop_words');
  });

  it('every rule can be switched off', async () => {
    expect(await verdict(gopherQualityFilter({ minDocWords: null, minStopWords: null }), 'tiny text here')).toBe('keep');
  });
});
