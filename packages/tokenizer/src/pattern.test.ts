// Split patterns: translation to Node RegExp checked against tiktoken's own regex engine on random text.
import fc from 'fast-check';
import { Tiktoken, get_encoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { GPT4_SPLIT_PATTERN, Tokenizer, compilePattern, freeEncodings, getEncoding, trainBpe, translatePattern } from './index.js';

const FRAGMENTS = [
  'word', ' Word', "'s", "'LL", 'ſ', 'x'.repeat(120), ' '.repeat(40), '\n', '\r\n', '\n\n\n', '\t', '  ', '123456', '½',
  '.', '...', '!?', '/', '\n/'.repeat(30), '漢字', '한국어', 'Việt', '🎉', '\u00a0', '\u3000', '\u0085', '\ufeff', 'é', 'A',
];
const textArb = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 30 }).map((parts) => parts.join(''));

afterAll(() => freeEncodings());

describe('translatePattern', () => {
  it('emulates possessive quantifiers and (?i:...) in Node RegExp syntax', () => {
    const re = compilePattern(GPT4_SPLIT_PATTERN);
    expect("He's HERE'S".match(re)).toEqual(['He', "'s", ' HERE', "'S"]);
    expect(new RegExp(translatePattern('a?+a'), 'u').test('a')).toBe(false); // possessive never gives back
    expect(new RegExp(translatePattern('a?a'), 'u').test('a')).toBe(true);
    expect(() => translatePattern('(?x)abc')).toThrow(expect.objectContaining({ code: 'TOKENIZER_BAD_PATTERN' }));
    expect(() => translatePattern('(a')).toThrow(/unbalanced/);
  });

  it('splits exactly like tiktoken\'s regex engine (full JS split path vs tiktoken, random text)', () => {
    // A pattern string tiktoken treats the same but lmkit does not recognise forces the JS split of every piece.
    for (const name of ['cl100k_base', 'o200k_base', 'r50k_base'] as const) {
      const enc = getEncoding(name);
      const jsSplit = new Tokenizer({ name: `${name}-js`, pattern: `(?:${enc.pattern})`, ranks: enc.ranks, specialTokens: {} });
      const ref = get_encoding(name);
      fc.assert(
        fc.property(textArb, (text) => {
          const want = Array.from(ref.encode_ordinary(text));
          expect(Array.from(jsSplit.encodeOrdinary(text))).toEqual(want);
          expect(Array.from(enc.encodeOrdinary(text))).toEqual(want);
        }),
        { numRuns: Number(process.env.LMKIT_PROPERTY_RUNS ?? 80) },
      );
      ref.free();
      jsSplit.free();
    }
  });

  it('a trained tokenizer (GPT-4 possessive pattern) encodes like a plain tiktoken core with the same ranks', async () => {
    const corpus = Array.from({ length: 20 }, () => FRAGMENTS.join(' '));
    const { tokenizer } = await trainBpe(corpus, { vocabSize: 400 });
    const core = new Tiktoken(tokenizer.ranks.toCompact(), {}, GPT4_SPLIT_PATTERN);
    fc.assert(
      fc.property(textArb, (text) => {
        expect(Array.from(tokenizer.encodeOrdinary(text))).toEqual(Array.from(core.encode_ordinary(text)));
      }),
      { numRuns: 150 },
    );
    core.free();
    tokenizer.free();
  });
});
