// getEncoding against the tiktoken package: identical ids, long runs, special-token policy, streaming decode.
import { get_encoding, type TiktokenEncoding } from 'tiktoken';
import { afterAll, describe, expect, it } from 'vitest';
import { ENCODING_NAMES, freeEncodings, getEncoding } from './index.js';

const SAMPLES = [
  'The quick brown fox jumps over the lazy dog. It\'s 2026; we\'ll see what they\'ve done.',
  'Tiếng Việt có dấu: Xin chào thế giới, chúng tôi đang huấn luyện mô hình ngôn ngữ.',
  '中文分词测试：我们正在训练一个语言模型。你好，世界！',
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\n\tconst x = [1, 22, 333, 4444];\n',
  'Emoji 🎉🚀👩‍👩‍👧‍👦 and flags 🇻🇳 mixed with text… “quotes” — dashes',
  '   leading spaces and trailing   \n\n\n  multiple\r\nlines\r\n',
  'HELLO WORLD\'S SHOUTING\'LL DO',
];

const reference = new Map<string, ReturnType<typeof get_encoding>>();
afterAll(() => {
  for (const r of reference.values()) r.free();
  freeEncodings();
});

describe('getEncoding matches tiktoken', () => {
  for (const name of ENCODING_NAMES) {
    it(`${name}: identical ids on multilingual text`, () => {
      const ref = get_encoding(name as TiktokenEncoding);
      reference.set(name, ref);
      const enc = getEncoding(name);
      const ranks = enc.ranks;
      expect(enc.vocabSize).toBe(Math.max(ranks.size - 1, ...enc.specialTokens.values()) + 1);
      for (const text of SAMPLES) {
        expect(Array.from(enc.encode(text))).toEqual(Array.from(ref.encode(text)));
        expect(enc.decode(enc.encode(text))).toBe(text);
      }
    });
  }

  it('long runs go through the heap merge and still match tiktoken', () => {
    const enc = getEncoding('cl100k_base');
    const ref = reference.get('cl100k_base')!;
    const texts = [
      'a'.repeat(1500),
      'see https://example.com/' + 'path/segment_'.repeat(40) + '?q=1 ok',
      'x' + ' '.repeat(400) + 'y' + '\n'.repeat(300) + 'z',
      '漢字'.repeat(300) + ' end',
      '.' + '\n/'.repeat(200),
      'word '.repeat(50) + 'supercalifragilistic'.repeat(10) + ' tail',
    ];
    for (const text of texts) expect(Array.from(enc.encode(text))).toEqual(Array.from(ref.encode(text)));
    const o200 = getEncoding('o200k_base');
    const refO = reference.get('o200k_base')!;
    for (const text of texts) expect(Array.from(o200.encode(text))).toEqual(Array.from(refO.encode(text)));
  });

  it('caches encoders and frees them', () => {
    const a = getEncoding('gpt2');
    expect(getEncoding('gpt2')).toBe(a);
    freeEncodings();
    expect(() => a.encode('x')).toThrow(/freed/);
    expect(getEncoding('gpt2')).not.toBe(a);
  });

  it('rejects unknown encodings with a typed error', () => {
    expect(() => getEncoding('cl200k' as never)).toThrow(expect.objectContaining({ code: 'TOKENIZER_UNKNOWN_ENCODING' }));
  });
});

describe('special tokens follow tiktoken policy', () => {
  const text = 'hello <|endoftext|> world';
  it('disallowed by default, with the token and offset named', () => {
    const enc = getEncoding('cl100k_base');
    expect(() => enc.encode(text)).toThrow(expect.objectContaining({ code: 'TOKENIZER_DISALLOWED_SPECIAL', details: { token: '<|endoftext|>', offset: 6 } }));
  });
  it('allowedSpecial encodes the special id; disallowedSpecial [] treats it as text', () => {
    const enc = getEncoding('cl100k_base');
    const ref = reference.get('cl100k_base') ?? get_encoding('cl100k_base');
    expect(Array.from(enc.encode(text, { allowedSpecial: 'all' }))).toEqual(Array.from(ref.encode(text, 'all')));
    expect(Array.from(enc.encode(text, { allowedSpecial: ['<|endoftext|>'] }))).toContain(100257);
    expect(Array.from(enc.encode(text, { disallowedSpecial: [] }))).toEqual(Array.from(ref.encode_ordinary(text)));
    expect(() => enc.encode(text, { allowedSpecial: ['<|fim_prefix|>'] })).toThrow(/disallowed/);
    expect(() => enc.encode(text, { allowedSpecial: ['<|nope|>'] })).toThrow(expect.objectContaining({ code: 'TOKENIZER_BAD_OPTION' }));
  });
  it('countTokens and encodeBatch agree with encode', () => {
    const enc = getEncoding('o200k_base');
    expect(enc.countTokens(SAMPLES[1])).toBe(enc.encode(SAMPLES[1]).length);
    expect(enc.encodeBatch(SAMPLES).map((ids) => ids.length)).toEqual(SAMPLES.map((s) => enc.encode(s).length));
  });
});

describe('streaming decoder', () => {
  it('never emits a broken character when a multi-byte char spans tokens', () => {
    const enc = getEncoding('cl100k_base');
    const text = '漢字 🎉 Việt';
    const ids = enc.encode(text);
    // Some token must end inside a character for the test to mean anything.
    const pieces = Array.from(ids, (id) => enc.tokenBytes(id));
    expect(pieces.some((b) => { try { new TextDecoder('utf-8', { fatal: true }).decode(b); return false; } catch { return true; } })).toBe(true);
    const d = enc.createDecoder();
    const out: string[] = [];
    for (const id of ids) out.push(d.push(id));
    out.push(d.flush());
    expect(out.join('')).toBe(text);
    expect(out.every((s) => !s.includes('\uFFFD'))).toBe(true);
  });
  it('emits U+FFFD for bytes that can never complete', () => {
    const enc = getEncoding('cl100k_base');
    const bytes = new Uint8Array([0xe6, 0xbc]); // first two bytes of 漢
    const ids = enc.encodeBytes(bytes);
    const d = enc.createDecoder();
    expect(d.push(ids)).toBe('');
    expect(d.flush()).toBe('\uFFFD');
  });
});
