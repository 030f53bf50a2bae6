import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuParagraphs, spamBodies } from './corpus-fixtures.js';
import { NGramLM } from './ngram-lm.js';
import { calibratePerplexity, perplexityBucket, perplexityFilter, percentile } from './perplexity.js';
import { run, verdict } from './test-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'lmkit-ppl-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('NGramLM', () => {
  const lm = NGramLM.train(['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog'], { order: 3, minCount: 1 });

  it('Kneser-Ney distributions sum to 1 over the vocabulary, for seen and unseen contexts', () => {
    for (const ctx of [['the', 'cat'], ['on', 'the'], ['zebra', 'unseen'], []]) {
      const total = lm.words.filter((w) => w !== '<s>').reduce((a, w) => a + lm.probability(ctx, w), 0);
      expect(total).toBeCloseTo(1, 10);
    }
  });

  it('gives seen continuations more mass than unseen ones, and unknown words non-zero mass', () => {
    expect(lm.probability(['the', 'cat'], 'sat')).toBeGreaterThan(lm.probability(['the', 'cat'], 'log'));
    expect(lm.probability(['the', 'cat'], 'zebra')).toBeGreaterThan(0);
  });

  it('computes CCNet perplexity 10^(−Σlog10 p / Σ(words + 1)) by hand on a one-line text', () => {
    const toks = ['the', 'cat', 'sat', '</s>'];
    const ctx = ['<s>', '<s>', 'the', 'cat', 'sat'];
    let log10 = 0;
    for (let i = 0; i < toks.length; i++) log10 += Math.log10(lm.probability(ctx.slice(i, i + 2), toks[i]));
    expect(lm.perplexity('the cat sat')).toBeCloseTo(10 ** (-log10 / 4), 9);
  });

  it('stupid backoff scores seen n-grams by relative frequency', () => {
    const sb = NGramLM.train(['a b c', 'a b d'], { smoothing: 'stupid-backoff', minCount: 1 });
    expect(sb.probability(['a', 'b'], 'c')).toBeCloseTo(0.5, 12);
    expect(sb.probability(['x', 'b'], 'c')).toBeCloseTo(0.4 * 0.5, 12); // backs off to (b, c): 1 of 2
  });
});

describe('perplexityFilter on real corpora', () => {
  it('ranks held-out SOTU below spam, buckets by reference percentiles, and round-trips through a file', async () => {
    const train = sotuParagraphs(25);
    const heldOut = sotuParagraphs(5, 200);
    const spam = spamBodies(40);
    const lm = NGramLM.train(train, { order: 3 });
    const cut = calibratePerplexity(lm, heldOut);
    expect(cut[0]).toBeLessThan(cut[1]);
    const median = (xs: number[]): number => percentile(xs.sort((a, b) => a - b), 0.5);
    const sotuPp = median(heldOut.map((t) => lm.perplexity(t)));
    const spamPp = median(spam.map((t) => lm.perplexity(t)).filter(Number.isFinite));
    console.log(`3-gram KN on 25 SOTU speeches: median perplexity held-out SOTU ${sotuPp.toFixed(0)}, spam ${spamPp.toFixed(0)}; cut-offs p30 ${cut[0].toFixed(0)}, p60 ${cut[1].toFixed(0)}`);
    expect(spamPp).toBeGreaterThan(1.5 * sotuPp);
    const path = join(dir, 'lm.json');
    await lm.save(path);
    const loaded = await NGramLM.load(path);
    expect(loaded.perplexity(heldOut[0])).toBeCloseTo(lm.perplexity(heldOut[0]), 9);
    const f = perplexityFilter({ model: path });
    await f.init!({ rank: 0, worldSize: 1, outDir: dir });
    const doc = await run(f, heldOut[0]);
    const pp = lm.perplexity(heldOut[0]);
    if ('meta' in doc) expect(doc.meta).toMatchObject({ perplexity_bucket: perplexityBucket(pp, cut) });
    else expect(doc.reason).toBe('perplexity_tail');
    const spamTail = spam.filter((t) => perplexityBucket(lm.perplexity(t), cut) === 'tail').length;
    expect(spamTail / spam.length).toBeGreaterThan(0.8);
    expect(perplexityBucket(cut[0] - 1e-9, cut)).toBe('head');
    expect(perplexityBucket(cut[0], cut)).toBe('middle');
    expect(perplexityBucket(cut[1], cut)).toBe('tail');
    expect(await verdict(perplexityFilter({ model: lm, keep: ['head', 'middle', 'tail'], cutoffs: cut }), spam[0])).toBe('keep');
  });

  it('rejects a file that is not a model with a typed error', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{"format":"other"}');
    await expect(NGramLM.load(path)).rejects.toMatchObject({ code: 'DATA_BAD_MODEL' });
  });
});
