import { describe, expect, it } from 'vitest';
import { htmlFilter, markupCharRatio } from './html.js';
import { keywordFilter } from './keyword.js';
import { ratioFilter, textRatios } from './ratios.js';
import { urlFilter } from './url.js';
import { run, verdict } from './test-helpers.js';

describe('ratioFilter', () => {
  const only = (o: Parameters<typeof ratioFilter>[0]) =>
    ratioFilter({ maxSymbolWordRatio: null, maxNonAlphaNumericRatio: null, maxDigitRatio: null, maxWhitespaceRatio: null, maxParenthesesRatio: null, maxWordLength: null, ...o });
  it('digits ≤ 0.15 of characters', async () => {
    const text = (d: number): string => '1'.repeat(d) + 'a'.repeat(100 - d);
    expect(textRatios(text(15)).digit).toBe(0.15);
    expect(await verdict(only({ maxDigitRatio: 0.15 }), text(15))).toBe('keep');
    expect(await verdict(only({ maxDigitRatio: 0.15 }), text(16))).toBe('ratio_digit');
  });
  it('uppercase, whitespace, parentheses, non-alphanumerics, word and line length', async () => {
    expect(await verdict(only({ maxUppercaseRatio: 0.5 }), 'ABcd')).toBe('keep');
    expect(await verdict(only({ maxUppercaseRatio: 0.5 }), 'ABCd')).toBe('ratio_uppercase');
    expect(await verdict(only({ maxWhitespaceRatio: 0.25 }), 'abc def')).toBe('keep'); // 1/7
    expect(await verdict(only({ maxWhitespaceRatio: 0.25 }), 'ab  cd')).toBe('ratio_whitespace'); // 2/6
    expect(await verdict(only({ maxParenthesesRatio: 0.1 }), '(abcdefgh)ijklmnopqrst')).toBe('keep'); // 2/22
    expect(await verdict(only({ maxParenthesesRatio: 0.1 }), '(abcdefgh)')).toBe('ratio_parentheses');
    expect(await verdict(only({ maxNonAlphaNumericRatio: 0.25 }), 'ab!c')).toBe('keep');
    expect(await verdict(only({ maxNonAlphaNumericRatio: 0.25 }), 'ab!?')).toBe('ratio_non_alphanumeric');
    expect(await verdict(only({ maxWordLength: 5 }), 'abcde fg')).toBe('keep');
    expect(await verdict(only({ maxWordLength: 5 }), 'abcdef g')).toBe('ratio_word_length');
    expect(await verdict(only({ minMeanLineLength: 3 }), 'abc\nde\nfgxy')).toBe('keep');
    expect(await verdict(only({ minMeanLineLength: 3 }), 'abc\nde\nfg')).toBe('ratio_mean_line_length');
    expect(await verdict(only({ maxLineLength: 4 }), 'abcd\nef')).toBe('keep');
    expect(await verdict(only({ maxLineLength: 4 }), 'abcde\nf')).toBe('ratio_line_length');
  });
  it('symbol-to-word ≤ 0.1', async () => {
    const words = Array.from({ length: 18 }, () => 'word');
    expect(await verdict(only({ maxSymbolWordRatio: 0.1 }), [...words, '#', '#'].join(' '))).toBe('keep'); // 2 / 20
    expect(await verdict(only({ maxSymbolWordRatio: 0.1 }), [...words, '#', '#', '#'].join(' '))).toBe('ratio_symbol_word');
  });
});

describe('keywordFilter', () => {
  it('drops documents or removes lines, word-bounded', async () => {
    expect(await verdict(keywordFilter({ keywords: ['casino'] }), 'Visit the Casino tonight')).toBe('keyword');
    expect(await verdict(keywordFilter({ keywords: ['casino'] }), 'casinos are not matched')).toBe('keep');
    expect(await verdict(keywordFilter({ keywords: ['casino'], substring: true }), 'casinos are matched')).toBe('keyword');
    expect(await run(keywordFilter({ keywords: ['click here'], scope: 'line' }), 'Real text.\nClick here to subscribe\nMore text.')).toMatchObject({ text: 'Real text.\nMore text.' });
    expect(await verdict(keywordFilter({ keywords: ['x'], scope: 'line' }), 'x\nx')).toBe('keyword_empty');
  });
});

describe('htmlFilter', () => {
  it('measures markup and drops pages with scripts or > 2 % markup', async () => {
    const prose = 'word '.repeat(100); // 500 chars
    expect(markupCharRatio(`<b>${prose}</b>`)).toBeCloseTo(7 / 507, 10);
    expect(await verdict(htmlFilter(), `<b>${prose}</b>`)).toBe('keep');
    expect(await verdict(htmlFilter(), `<div class="x"><p>${prose}</p></div>&nbsp;&amp;`)).toBe('html_markup');
    expect(await verdict(htmlFilter(), `${prose}<script>alert(1)</script>`)).toBe('html_script');
    expect(await verdict(htmlFilter(), 'if a < b and c > d then 3<4 holds.')).toBe('keep');
    // exactly 2 %: 7 markup characters in 350
    expect(await verdict(htmlFilter(), `<b>${'x'.repeat(343)}</b>`)).toBe('keep');
    expect(await verdict(htmlFilter(), `<b>${'x'.repeat(342)}</b>`)).toBe('html_markup');
  });
});

describe('urlFilter', () => {
  const f = urlFilter({ blockedDomains: ['bad.com'], bannedWords: ['porn'], softBannedWords: ['sex', 'xxx'], blockedUrls: ['https://x.org/a'] });
  it('blocks domains with subdomains, banned and soft-banned URL words', async () => {
    expect(await verdict(f, 't', { url: 'https://www.bad.com/page' })).toBe('url_blocked_domain');
    expect(await verdict(f, 't', { url: 'https://cdn.bad.com/page' })).toBe('url_blocked_domain');
    expect(await verdict(f, 't', { url: 'https://notbad.com/page' })).toBe('keep');
    expect(await verdict(f, 't', { url: 'https://x.org/a' })).toBe('url_blocked');
    expect(await verdict(f, 't', { url: 'https://site.org/free-porn' })).toBe('url_banned_word');
    expect(await verdict(f, 't', { url: 'https://site.org/sex-ed' })).toBe('keep');
    expect(await verdict(f, 't', { url: 'https://site.org/sex-xxx' })).toBe('url_soft_banned');
    expect(await verdict(f, 't', {})).toBe('keep');
    expect(await verdict(urlFilter({ requireUrl: true }), 't', {})).toBe('url_missing');
  });
});
