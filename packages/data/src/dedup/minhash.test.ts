import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXxhash } from '../text/hash.js';
import { normalizeForDedup } from '../text/normalize.js';
import type { Document } from '../types.js';
import { exactDeduplicator } from './exact-dedup.js';
import { collisionProbability, MinHasher, permutationParameters } from './minhasher.js';
import { minhashDeduplicator } from './minhash-dedup.js';
import { runDeduplicator, type KeyedShard } from './run-dedup.js';

const dirs: string[] = [];
async function workDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lmkit-dedup-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Deterministic pseudo-random words. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    s ^= s >>> 13;
    return s / 2 ** 32;
  };
}
const SYLL = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pu', 'be', 'do'];
function words(r: () => number, n: number): string[] {
  return Array.from({ length: n }, () => SYLL[(r() * 12) | 0] + SYLL[(r() * 12) | 0] + SYLL[(r() * 12) | 0] + SYLL[(r() * 12) | 0]);
}
function shingles(text: string, n = 5): Set<string> {
  const w = normalizeForDedup(text).split(' ');
  const s = new Set<string>();
  for (let i = 0; i + n <= w.length; i++) s.add(w.slice(i, i + n).join(' '));
  return s;
}
function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** A pair of 200-word documents whose 5-gram shingle sets have Jaccard similarity close to `target`. */
function pair(r: () => number, target: number): [string, string] {
  const m = 200;
  const s = m - 4; // shingles per doc
  // shared prefix of k words gives k-4 shared shingles: J = (k-4) / (2s - (k-4))
  const shared = Math.round((2 * s * target) / (1 + target));
  const base = words(r, m);
  const other = base.slice(0, shared + 4).concat(words(r, m - shared - 4));
  return [base.join(' '), other.join(' ')];
}

describe('MinHasher', () => {
  it('hashes shingles with the same xxh64 as xxhash-wasm', async () => {
    const h = await MinHasher.create();
    const xx = await loadXxhash();
    for (const s of ['', 'a', 'hello world', 'x'.repeat(31), 'y'.repeat(32), 'the quick brown fox jumps over the lazy dog'.repeat(3), 'café ünïcode']) {
      expect(h.xxh64(new TextEncoder().encode(s))).toBe(xx.h64(s));
    }
  });

  it('draws permutation parameters in range, deterministically from the seed', () => {
    const p = (1n << 61n) - 1n;
    const { a, b } = permutationParameters(112, 1);
    expect(a.every((x) => x >= 1n && x < p) && b.every((x) => x < p)).toBe(true);
    expect(permutationParameters(112, 1).a).toEqual(a);
    expect(permutationParameters(112, 2).a).not.toEqual(a);
  });

  it('matches a BigInt reference of min((a·x+b) mod p) over shingles', async () => {
    const h = await MinHasher.create({ numBuckets: 2, hashesPerBucket: 3 });
    const xx = await loadXxhash();
    const text = 'One two three four five six seven, eight nine ten eleven!';
    const { a, b } = permutationParameters(6, 1);
    const p = (1n << 61n) - 1n;
    const w = normalizeForDedup(text).split(' ');
    const expected = Array.from({ length: 6 }, (_, j) => {
      let min = (1n << 64n) - 1n;
      for (let i = 0; i + 5 <= w.length; i++) {
        const x = xx.h64(w.slice(i, i + 5).join(' ')) % p;
        const v = (a[j] * x + b[j]) % p;
        if (v < min) min = v;
      }
      return min;
    });
    expect(Array.from(h.signature(text))).toEqual(expected);
  });

  it('estimates Jaccard similarity and follows the LSH S-curve (14 bands × 8)', async () => {
    const h = await MinHasher.create();
    const r = rng(7);
    const bands = [new Uint32Array(28), new Uint32Array(28)];
    const report: string[] = [];
    for (const target of [0.5, 0.8]) {
      let caught = 0;
      let estErr = 0;
      let realJ = 0;
      const trials = 150;
      for (let t = 0; t < trials; t++) {
        const [x, y] = pair(r, target);
        const j = jaccard(shingles(x), shingles(y));
        realJ += j;
        const sx = h.signature(x);
        const sy = h.signature(y);
        let agree = 0;
        for (let k = 0; k < sx.length; k++) if (sx[k] === sy[k]) agree++;
        estErr += agree / sx.length - j;
        h.bandHashes(x, bands[0]);
        h.bandHashes(y, bands[1]);
        let hit = false;
        for (let b = 0; b < 14; b++) if (bands[0][2 * b] === bands[1][2 * b] && bands[0][2 * b + 1] === bands[1][2 * b + 1]) hit = true;
        if (hit) caught++;
      }
      realJ /= trials;
      const rate = caught / trials;
      report.push(`J=${realJ.toFixed(3)} caught ${rate.toFixed(3)} (theory ${collisionProbability(realJ).toFixed(3)}), mean estimate error ${(estErr / trials).toFixed(4)}`);
      expect(Math.abs(estErr / trials)).toBeLessThan(0.02);
      expect(Math.abs(rate - collisionProbability(realJ))).toBeLessThan(0.12);
      if (target === 0.8) expect(rate).toBeGreaterThan(0.8);
      if (target === 0.5) expect(rate).toBeLessThan(0.15);
    }
    console.log(`MinHash S-curve: ${report.join('; ')}`);
  });
});

function corpus(): Document[] {
  const r = rng(42);
  const docs: Document[] = [];
  for (let i = 0; i < 40; i++) docs.push({ id: `d${i}`, text: words(r, 120).join(' ') + '.', meta: {} });
  // near duplicates of 3, 10 and 25 (one word changed near the end: J ≈ 0.96), exact copies of 7 and 8
  for (const src of [3, 10, 25]) {
    const w = docs[src].text.split(' ');
    w[100] = 'changed';
    docs.push({ id: `near${src}`, text: w.join(' '), meta: {} });
  }
  docs.push({ id: 'copy7', text: docs[7].text, meta: {} });
  docs.push({ id: 'copy8', text: docs[8].text.toUpperCase(), meta: {} });
  // a duplicate placed before its original in key order: the lower key must win
  docs.unshift({ id: 'early15', text: docs[15].text.replace(/\.$/, '!'), meta: {} });
  return docs;
}

function split(docs: Document[], ranks: number): KeyedShard[] {
  const shards: Array<Array<{ key: bigint; doc: Document }>> = Array.from({ length: ranks }, () => []);
  docs.forEach((doc, i) => shards[i % ranks].push({ key: BigInt(i), doc }));
  return shards;
}

describe('minhashDeduplicator', () => {
  it('removes near and exact duplicates, keeps the lowest key, and gives the same removals with 1 and 2 ranks', async () => {
    const docs = corpus();
    const one = await runDeduplicator(minhashDeduplicator(), split(docs, 1), await workDir());
    const two = await runDeduplicator(minhashDeduplicator({ maxRecordsInMemory: 50 }), split(docs, 2), await workDir());
    const removedIds = one.removedKeys.map((k) => docs[Number(k)].id).sort();
    expect(removedIds).toEqual(['copy7', 'copy8', 'd15', 'near10', 'near25', 'near3']);
    expect(two.removedKeys).toEqual(one.removedKeys);
    expect(one.cluster).toEqual({ removed: 6, clusters: 6 });
  });
});

describe('exactDeduplicator', () => {
  it('removes byte-identical copies only (or normalized copies when asked), same with 1 and 2 ranks', async () => {
    const docs = corpus();
    const raw = await runDeduplicator(exactDeduplicator(), split(docs, 1), await workDir());
    expect(raw.removedKeys.map((k) => docs[Number(k)].id)).toEqual(['copy7']);
    const norm1 = await runDeduplicator(exactDeduplicator({ normalize: true }), split(docs, 1), await workDir());
    const norm2 = await runDeduplicator(exactDeduplicator({ normalize: true }), split(docs, 2), await workDir());
    expect(norm1.removedKeys.map((k) => docs[Number(k)].id).sort()).toEqual(['copy7', 'copy8', 'd15']);
    expect(norm2.removedKeys).toEqual(norm1.removedKeys);
  });
});
