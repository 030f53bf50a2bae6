// trainBpe against textbook BPE, determinism, specials, bad input, byte-exact round trips and file streaming.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT4_SPLIT_PATTERN, compilePattern, readCorpusFiles, trainBpe } from './index.js';

/** Textbook BPE: recount every pair each step; same tie-break (count desc, then pair asc). */
function naiveBpe(texts: string[], vocabSize: number): string[] {
  const re = compilePattern(GPT4_SPLIT_PATTERN);
  const counts = new Map<string, number>();
  for (const t of texts) for (const m of t.matchAll(re)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words = [...counts].map(([w, c]) => ({ ids: [...new TextEncoder().encode(w)], c }));
  const tokens: string[] = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b));
  const known = new Map(tokens.map((t, i) => [t, i]));
  while (tokens.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.ids.length; i++) {
      const k = `${w.ids[i]},${w.ids[i + 1]}`;
      pairs.set(k, (pairs.get(k) ?? 0) + w.c);
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) (best = [a, b]), (bestCount = c);
    }
    if (!best) break;
    const [a, b] = best;
    const bytes = tokens[a] + tokens[b];
    let c = known.get(bytes);
    if (c === undefined) (c = tokens.length), tokens.push(bytes), known.set(bytes, c);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.ids.length; i++) {
        if (i + 1 < w.ids.length && w.ids[i] === a && w.ids[i + 1] === b) out.push(c), i++;
        else out.push(w.ids[i]);
      }
      w.ids = out;
    }
  }
  return tokens;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const CORPUS = [
  'the cat sat on the mat. the cat ate the rat; that rat sat flat.',
  'aaaa aaaaa abababab ababab xyzxyz xyz — ünïcödé ünïcödé Việt Nam Việt 中文中文中文',
  'It\'s what they\'ve said, and we\'ll do what we\'d like.\n\n  indented    spaces\t\ttabs',
];

describe('trainBpe', () => {
  it('learns the same merges as textbook BPE', async () => {
    const vocab = 400;
    const { tokenizer } = await trainBpe(CORPUS, { vocabSize: vocab });
    const ours = tokenizer.ranks.tokens.map((t) => latin1(t!));
    expect(ours).toEqual(naiveBpe(CORPUS, vocab).slice(0, ours.length));
    tokenizer.free();
  });

  it('is deterministic and reads async iterables and byte chunks alike', async () => {
    async function* gen() {
      for (const t of CORPUS) yield new TextEncoder().encode(t);
    }
    const a = await trainBpe(CORPUS, { vocabSize: 320 });
    const b = await trainBpe(gen(), { vocabSize: 320 });
    expect(b.tokenizer.ranks.tokens).toEqual(a.tokenizer.ranks.tokens);
    expect(a.stats.distinctWords).toBeGreaterThan(10);
    a.tokenizer.free();
    b.tokenizer.free();
  });

  it('gives special tokens the ids after the learned tokens and never learns them', async () => {
    const texts = CORPUS.map((t) => t + '<|endoftext|>');
    const { tokenizer, stats } = await trainBpe(texts, { vocabSize: 300, specialTokens: ['<|endoftext|>', '<|pad|>'] });
    expect(stats.merges).toBe(42);
    expect(tokenizer.specialTokens.get('<|endoftext|>')).toBe(298);
    expect(tokenizer.specialTokens.get('<|pad|>')).toBe(299);
    expect(tokenizer.vocabSize).toBe(300);
    expect(tokenizer.ranks.tokens.some((t) => latin1(t!).includes('endoftext'))).toBe(false);
    const ids = tokenizer.encode('the cat<|endoftext|>', { allowedSpecial: 'all' });
    expect(ids[ids.length - 1]).toBe(298);
    tokenizer.free();
  });

  it('stops at minFrequency and reports it', async () => {
    const { tokenizer, stats } = await trainBpe(CORPUS, { vocabSize: 5000, minFrequency: 3 });
    expect(stats.stoppedEarly).toBe(true);
    expect(tokenizer.vocabSize).toBeLessThan(5000);
    tokenizer.free();
  });

  it('rejects an empty corpus and a vocabulary below 256 + specials', async () => {
    await expect(trainBpe([], { vocabSize: 300 })).rejects.toMatchObject({ code: 'TOKENIZER_EMPTY_CORPUS' });
    await expect(trainBpe(['', ''], { vocabSize: 300 })).rejects.toMatchObject({ code: 'TOKENIZER_EMPTY_CORPUS' });
    await expect(trainBpe(CORPUS, { vocabSize: 256, specialTokens: ['<|eot|>'] })).rejects.toMatchObject({
      code: 'TOKENIZER_VOCAB_TOO_SMALL',
      message: expect.stringContaining('257'),
    });
  });

  it('round-trips arbitrary bytes, including bytes never seen in training and invalid UTF-8', async () => {
    const invalid = new Uint8Array([0x61, 0x62, 0xff, 0xfe, 0x80, 0x61, 0x62, 0xc3]);
    const { tokenizer } = await trainBpe([...CORPUS, invalid, invalid], { vocabSize: 420 });
    expect(tokenizer.tokenId(new Uint8Array([0xff, 0xfe, 0x80]))).toBeDefined(); // learned from the invalid run
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(tokenizer.decodeBytes(tokenizer.encodeBytes(bytes))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(tokenizer.decode(tokenizer.encode(text, { disallowedSpecial: [] }))).toBe(text.replace(/\p{Cs}/gu, '\uFFFD'));
      }),
      { numRuns: 300 },
    );
    tokenizer.free();
  });

  it('readCorpusFiles streams files in chunks with the same result as whole files, bytes exact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-corpus-'));
    const body = Buffer.concat([Buffer.from(CORPUS.join('\n').repeat(40)), Buffer.from([0xff, 0xc3, 0x28, 0x0a]), Buffer.from('Tail line\nmore\n')]);
    await writeFile(join(dir, 'a.txt'), body);
    await writeFile(join(dir, 'b.txt'), 'second file\n');
    const seen: number[] = [];
    const chunks: Uint8Array[] = [];
    for await (const c of readCorpusFiles([join(dir, 'a.txt'), join(dir, 'b.txt')], { chunkBytes: 256, onBytes: (n) => seen.push(n) })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat([body, Buffer.from('second file\n')]));
    const streamed = await trainBpe(readCorpusFiles([join(dir, 'a.txt'), join(dir, 'b.txt')], { chunkBytes: 256 }), { vocabSize: 500 });
    const whole = await trainBpe([body, Buffer.from('second file\n')], { vocabSize: 500 });
    expect(streamed.tokenizer.ranks.tokens).toEqual(whole.tokenizer.ranks.tokens);
    await expect(trainBpe(readCorpusFiles([join(dir, 'nope.txt')]), { vocabSize: 300 })).rejects.toMatchObject({ code: 'TOKENIZER_BAD_FILE' });
    streamed.tokenizer.free();
    whole.tokenizer.free();
  });
});
