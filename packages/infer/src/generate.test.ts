import { describe, expect, it } from 'vitest';
import { BigramLM, byteTokenizer, EOT, VOCAB } from '../test/bigram-lm.js';
import { evaluate } from './eval.js';
import { generate, generateText } from './generate.js';

const story = 'the cat sat on the mat. the dog sat on the log. ';

describe('generate', () => {
  it('greedy output is identical with and without the KV cache, and the cache feeds one token per step', async () => {
    const cached = BigramLM.fromText(story);
    const uncached = BigramLM.fromText(story);
    const a = await generateText(cached, byteTokenizer, 'the c', { max_new_tokens: 40, do_sample: false });
    const b = await generateText(uncached, byteTokenizer, 'the c', { max_new_tokens: 40, do_sample: false, use_cache: false });
    expect(a.text).toBe(b.text);
    expect(a.text.length).toBeGreaterThan(10);
    expect(cached.forwardTokens).toBe(5 + 39); // prompt once, then one token per step
    expect(uncached.forwardTokens).toBeGreaterThan(cached.forwardTokens * 5);
  });
  it('seeded sampling is reproducible and different seeds differ', async () => {
    const m = BigramLM.fromText(story, 64, 1);
    const cfg = { max_new_tokens: 60, temperature: 1.5, top_k: 0 };
    const a = await generateText(m, byteTokenizer, 'the', { ...cfg, seed: 7 });
    const b = await generateText(m, byteTokenizer, 'the', { ...cfg, seed: 7 });
    const c = await generateText(m, byteTokenizer, 'the', { ...cfg, seed: 8 });
    expect(a.text).toBe(b.text);
    expect(a.text).not.toBe(c.text);
  });
  it('max_new_tokens bounds the output and reports length', async () => {
    const r = await generateText(BigramLM.fromText(story), byteTokenizer, 'the', { max_new_tokens: 7, do_sample: false });
    expect(r.stats.completionTokens).toBe(7);
    expect(r.finishReason).toBe('length');
  });
  it('stop strings end generation and are not returned, even across chunk boundaries', async () => {
    const chunks: string[] = [];
    const alphabet = 'abcdefghijklmnopqrstuvwxyz ';
    for await (const c of generate(BigramLM.fromText(alphabet), byteTokenizer, 'a', { max_new_tokens: 100, do_sample: false, stop: ['xyz', 'fgq'] })) chunks.push(c.text);
    // 'fgq' shares a prefix with the output ('fg') but never completes: held back, then released.
    expect(chunks.join('')).toBe('bcdefghijklmnopqrstuvw');
  });
  it('an eos token stops with finish_reason stop', async () => {
    const m = BigramLM.fromText('ab');
    m.table[Buffer.from('b')[0] * VOCAB + EOT] = 100;
    const r = await generateText(m, byteTokenizer, 'a', { max_new_tokens: 50, do_sample: false });
    expect(r.text).toBe('b');
    expect(r.finishReason).toBe('stop');
  });
  it('never emits half a UTF-8 character', async () => {
    const text = 'a漢b字cé'; // every byte distinct, so the greedy bigram walk cycles through the text
    const pieces: string[] = [];
    for await (const c of generate(BigramLM.fromText(text, 64, 8), byteTokenizer, 'a', { max_new_tokens: 30, do_sample: false })) pieces.push(c.text);
    for (const p of pieces) expect(p).not.toContain('\uFFFD');
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0); // partial characters were held back
    expect(pieces.join('')).toBe('漢b字céa漢b字céa漢b字c');
  });
  it('repetition_penalty changes greedy output away from repeats', async () => {
    const m = BigramLM.fromText(story, 64, 0.3);
    const plain = await generateText(m, byteTokenizer, 'the', { max_new_tokens: 30, do_sample: false });
    const penalized = await generateText(m, byteTokenizer, 'the', { max_new_tokens: 30, do_sample: false, repetition_penalty: 5 });
    expect(penalized.text).not.toBe(plain.text);
  });
  it('truncates long prompts from the left, or rejects them when asked', async () => {
    const m = BigramLM.fromText(story, 16);
    const r = await generateText(m, byteTokenizer, 'x'.repeat(40), { max_new_tokens: 3, do_sample: false });
    expect(r.stats.truncated).toBe(true);
    expect(r.stats.promptTokens).toBe(15);
    await expect(generateText(m, byteTokenizer, 'x'.repeat(40), { truncation: 'error' })).rejects.toThrow(/context holds 16/);
  });
});

describe('evaluate', () => {
  it('a uniform model has perplexity = vocab size and 8·log2(V)/8 bits per byte', () => {
    const m = new BigramLM(new Float32Array(VOCAB * VOCAB), 8);
    const tokens = Array.from(Buffer.from('some held-out text for evaluation'));
    const r = evaluate(m, tokens, { tokenBytes: () => 1, progress: 'silent' });
    expect(r.tokens).toBe(tokens.length - 1);
    expect(r.perplexity).toBeCloseTo(VOCAB, 3);
    expect(r.bitsPerByte).toBeCloseTo(Math.log2(VOCAB), 6);
  });
  it('a model trained on the text scores it better than uniform', () => {
    const m = BigramLM.fromText(story, 32);
    const r = evaluate(m, Array.from(Buffer.from(story.repeat(3))), { progress: 'silent' });
    expect(r.perplexity).toBeLessThan(20);
  });
});
