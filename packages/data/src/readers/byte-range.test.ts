// Byte-range sharding: for any split of a JSONL file into N ranges, every record is read by exactly one rank.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSlices, readDocuments } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-ranges-'));

async function readAllRanks(path: string, worldSize: number, chunkSize?: number): Promise<number[][]> {
  const perRank: number[][] = [];
  for (let rank = 0; rank < worldSize; rank++) {
    const ids: number[] = [];
    for (const slice of await planSlices([path], rank, worldSize)) {
      for await (const item of readDocuments(slice.path, { ...(slice.range ? { range: slice.range } : {}), ...(chunkSize ? { chunkSize } : {}) })) {
        if (item.kind === 'doc') ids.push(item.doc.meta.n as number);
      }
    }
    perRank.push(ids);
  }
  return perRank;
}

describe('byte-range sharding', () => {
  it('covers every record exactly once for N = 1..9 on a fixed file', async () => {
    const lines = Array.from({ length: 200 }, (_, n) => JSON.stringify({ n, text: 'é'.repeat(n % 37) + 'x'.repeat((n * 7919) % 301) }));
    const path = join(dir, 'fixed.jsonl');
    writeFileSync(path, lines.join('\n') + '\n');
    for (let n = 1; n <= 9; n++) {
      const perRank = await readAllRanks(path, n, 64);
      expect(perRank.flat().sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
      if (n > 1) expect(perRank.filter((r) => r.length > 0).length).toBeGreaterThan(1);
    }
  });

  it('covers every record exactly once for random files, splits and buffer sizes', async () => {
    let case_ = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 40, unit: 'grapheme' }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        async (texts, worldSize, chunkSize, finalNewline) => {
          const path = join(dir, `random-${case_++}.jsonl`);
          const body = texts.map((text, n) => JSON.stringify({ n, text })).join('\n');
          writeFileSync(path, body + (finalNewline && texts.length > 0 ? '\n' : ''));
          const perRank = await readAllRanks(path, worldSize, chunkSize);
          expect(perRank.flat().sort((a, b) => a - b)).toEqual(texts.map((_, i) => i));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives non-splittable files whole to one rank, round-robin', async () => {
    const a = join(dir, 'a.txt');
    const b = join(dir, 'b.jsonl.gz');
    writeFileSync(a, 'x');
    writeFileSync(b, '');
    const r0 = await planSlices([a, b], 0, 2);
    const r1 = await planSlices([a, b], 1, 2);
    expect(r0.map((s) => [s.fileIndex, s.range])).toEqual([[0, undefined]]);
    expect(r1.map((s) => [s.fileIndex, s.range])).toEqual([[1, undefined]]);
    await expect(planSlices([a], 2, 2)).rejects.toMatchObject({ code: 'DATA_BAD_RANK' });
    await expect(planSlices([join(dir, 'missing.jsonl')], 0, 1)).rejects.toMatchObject({ code: 'DATA_INPUT_NOT_FOUND' });
  });
});
