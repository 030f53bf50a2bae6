import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lowerBound, mergeBucket, readRemovals, SignatureWriter, writeRemovals } from './signature-files.js';
import { UnionFind } from './union-find.js';

const dir = await mkdtemp(join(tmpdir(), 'lmkit-sigs-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('SignatureWriter + mergeBucket (external sort)', () => {
  it('merges many small sorted runs from several ranks into one sorted stream with every record once', async () => {
    let s = 12345;
    const rand = (n: number): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % n; // NOTE: high bits; the low bit of this LCG alternates
    const expected: string[] = [];
    for (let rank = 0; rank < 3; rank++) {
      const w = new SignatureWriter(join(dir, 'sigs'), 2, rank, 37); // 37 records per run: many runs
      for (let i = 0; i < 500; i++) {
        const bucket = rand(2);
        const hi = rand(4);
        const lo = rand(1 << 30);
        const key = BigInt(rank * 1000 + i) + (BigInt(rand(3)) << 40n);
        await w.add(bucket, hi, lo, key, i);
        if (bucket === 1) expected.push(`${hi}|${lo}|${key}|${i}|${rank}`);
      }
      await w.close();
    }
    expect((await readdir(join(dir, 'sigs', 'b1'))).length).toBeGreaterThan(20);
    const got: string[] = [];
    for await (const r of mergeBucket(join(dir, 'sigs'), 1)) got.push(`${r.hashHi}|${r.hashLo}|${r.key}|${r.aux}|${r.rank}`);
    expect(got.length).toBe(expected.length);
    expect(new Set(got)).toEqual(new Set(expected));
    const tuple = (x: string): bigint[] => x.split('|').map(BigInt);
    for (let i = 1; i < got.length; i++) {
      const [a, b] = [tuple(got[i - 1]), tuple(got[i])];
      const cmp = a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] !== b[2] ? a[2] < b[2] : a[3] <= b[3];
      expect(cmp).toBe(true);
    }
  });

  it('writes and reads per-rank removal files; lowerBound finds keys', async () => {
    await writeRemovals(join(dir, 'w'), 2, new Map([[1, [[5n, 0], [2n, 3], [1n << 50n, 1]]]]));
    const r1 = await readRemovals(join(dir, 'w'), 1);
    expect(Array.from(r1.keys)).toEqual([2n, 5n, 1n << 50n]);
    expect(Array.from(r1.aux)).toEqual([3, 0, 1]);
    expect((await readRemovals(join(dir, 'w'), 0)).keys.length).toBe(0);
    expect(lowerBound(r1.keys, 5n)).toBe(1);
    expect(lowerBound(r1.keys, 6n)).toBe(2);
    await expect(readRemovals(join(dir, 'w'), 7)).rejects.toMatchObject({ code: 'DATA_DEDUP_NO_REMOVALS' });
  });
});

describe('UnionFind', () => {
  it('agrees with a naive connected-components labelling; roots are cluster minima', () => {
    let s = 7;
    const rand = (n: number): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) % n; // NOTE: high bits; the low bit of this LCG alternates
    const uf = new UnionFind();
    const label = Array.from({ length: 300 }, (_, i) => i);
    for (let e = 0; e < 200; e++) {
      const a = rand(300);
      const b = rand(300);
      uf.union(BigInt(a), BigInt(b));
      const [la, lb] = [label[a], label[b]];
      for (let i = 0; i < 300; i++) if (label[i] === lb) label[i] = la;
    }
    const min = new Map<number, number>();
    label.forEach((l, i) => min.set(l, Math.min(min.get(l) ?? i, i)));
    for (let i = 0; i < 300; i++) expect(uf.find(BigInt(i))).toBe(BigInt(min.get(label[i])!));
    const nonRoots = [...uf.nonRoots()].map(Number).sort((x, y) => x - y);
    expect(nonRoots).toEqual(label.map((l, i) => (min.get(l) === i ? -1 : i)).filter((i) => i >= 0));
    expect(uf.clusterCount()).toBe([...new Set(label)].filter((l) => label.filter((x) => x === l).length > 1).length);
  });
});
