// Splits a batched sgemm into per-thread blocks of C: whole batch items when they divide evenly, else rows or columns in micro-tile units.

/** The part of C one thread computes: batch items [batch0, batch1) × rows [row0, row1) × columns [col0, col1). */
export interface SgemmBlock {
  batch0: number;
  batch1: number;
  row0: number;
  row1: number;
  col0: number;
  col1: number;
}

/** Rows of the register micro-tile (MR in c/sgemm.c; checked against the module at init). */
export const MICRO_ROWS = 4;
/** Columns of the register micro-tile (NR in c/sgemm.c). */
export const MICRO_COLS = 8;

/**
 * Splits (batch, m, n) over at most `threads` threads. Every block is non-empty, blocks tile the
 * whole problem without overlap, and row/column cuts fall on micro-tile boundaries so no tile is
 * split. NOTE: splitting the larger of m and n keeps the duplicated packing (each thread packs the
 * whole other operand) the smaller one.
 */
export function partitionSgemm(batch: number, m: number, n: number, threads: number): SgemmBlock[] {
  const whole = { batch0: 0, batch1: batch, row0: 0, row1: m, col0: 0, col1: n };
  if (threads <= 1) return [whole];
  if (batch >= threads && batch % threads === 0) {
    return split(batch, 1, threads).map(([b0, b1]) => ({ ...whole, batch0: b0, batch1: b1 }));
  }
  const byRows = Math.ceil(m / MICRO_ROWS) >= Math.ceil(n / MICRO_COLS);
  if (byRows) return split(m, MICRO_ROWS, threads).map(([r0, r1]) => ({ ...whole, row0: r0, row1: r1 }));
  return split(n, MICRO_COLS, threads).map(([c0, c1]) => ({ ...whole, col0: c0, col1: c1 }));
}

/** Cuts [0, size) into at most `parts` near-equal non-empty ranges whose cuts are multiples of `unit`. */
function split(size: number, unit: number, parts: number): [number, number][] {
  const units = Math.ceil(size / unit);
  const count = Math.min(parts, units);
  const ranges: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const endUnit = Math.round(((i + 1) * units) / count);
    const end = Math.min(size, endUnit * unit);
    if (end > start) ranges.push([start, end]);
    start = end;
  }
  return ranges;
}
