// partitionSgemm: blocks tile the problem exactly, without overlap, on micro-tile boundaries.
import { describe, expect, test } from 'vitest';
import { MICRO_COLS, MICRO_ROWS, partitionSgemm, type SgemmBlock } from './sgemm-partition';

/** Counts how many blocks cover each (batch, row, col) cell. */
function coverage(batch: number, m: number, n: number, blocks: SgemmBlock[]): Uint8Array {
  const hits = new Uint8Array(batch * m * n);
  for (const bl of blocks) {
    expect(bl.batch1 > bl.batch0 && bl.row1 > bl.row0 && bl.col1 > bl.col0).toBe(true);
    for (let t = bl.batch0; t < bl.batch1; t++)
      for (let i = bl.row0; i < bl.row1; i++) for (let j = bl.col0; j < bl.col1; j++) hits[(t * m + i) * n + j]++;
  }
  return hits;
}

describe('partitionSgemm', () => {
  test.each([
    [1, 1, 1, 2],
    [1, 100, 3, 2],
    [1, 3, 100, 2],
    [1, 4, 8, 4],
    [4, 10, 10, 2],
    [3, 50, 20, 2],
    [1, 97, 131, 7],
  ])('batch %i, %i × %i over %i threads covers every cell once', (batch, m, n, threads) => {
    const blocks = partitionSgemm(batch, m, n, threads);
    expect(blocks.length).toBeLessThanOrEqual(threads);
    expect(coverage(batch, m, n, blocks).every((h) => h === 1)).toBe(true);
    for (const bl of blocks) {
      expect(bl.row0 % MICRO_ROWS).toBe(0);
      expect(bl.col0 % MICRO_COLS).toBe(0);
    }
  });

  test('splits whole batch items when they divide evenly, else the larger dimension', () => {
    expect(partitionSgemm(4, 10, 10, 2).map((b) => [b.batch0, b.batch1])).toEqual([[0, 2], [2, 4]]);
    expect(partitionSgemm(3, 200, 16, 2).map((b) => [b.row0, b.row1])).toEqual([[0, 100], [100, 200]]);
    expect(partitionSgemm(1, 8, 400, 2).map((b) => [b.col0, b.col1])).toEqual([[0, 200], [200, 400]]);
    expect(partitionSgemm(1, 8, 8, 1)).toEqual([{ batch0: 0, batch1: 1, row0: 0, row1: 8, col0: 0, col1: 8 }]);
  });
});
