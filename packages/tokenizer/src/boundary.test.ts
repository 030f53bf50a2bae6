import { get_encoding } from 'tiktoken';
import { afterAll, expect, it } from 'vitest';
import { Tokenizer, freeEncodings, getEncoding } from './index.js';

afterAll(() => freeEncodings());

// A whitespace run cut by `\s+(?!\S)` right before a long piece: found by the pattern property test.
it('the piece before a long piece keeps the split it had in context (tiktoken ids)', () => {
  for (const name of ['r50k_base', 'cl100k_base', 'o200k_base'] as const) {
    const enc = getEncoding(name);
    const jsSplit = new Tokenizer({ name: `${name}-js`, pattern: `(?:${enc.pattern})`, ranks: enc.ranks, specialTokens: {} });
    const ref = get_encoding(name);
    for (const text of ['\n\n\n\n' + 'x'.repeat(120), 'a  \t ' + 'y'.repeat(150) + ' end', '\n\n' + '/'.repeat(130)]) {
      const want = Array.from(ref.encode_ordinary(text));
      expect(Array.from(jsSplit.encodeOrdinary(text)), `${name} js ${JSON.stringify(text.slice(0, 8))}`).toEqual(want);
      expect(Array.from(enc.encodeOrdinary(text)), `${name} ${JSON.stringify(text.slice(0, 8))}`).toEqual(want);
    }
    ref.free();
    jsSplit.free();
  }
});
