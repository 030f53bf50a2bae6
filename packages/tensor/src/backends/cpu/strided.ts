// Row plans for strided loops: collapse mergeable dims, then list each operand's offset per output row.
import type { View } from '../../backend.js';

/** A loop plan: `rows` rows of `n` elements; operand k's row r starts at offsets[k][r] and steps by steps[k]. */
export interface RowPlan {
  /** Elements per row (the innermost collapsed dim). */
  n: number;
  /** Number of rows. */
  rows: number;
  /** Per operand: element step within a row. */
  steps: number[];
  /** Per operand: start offset of each row. */
  offsets: Int32Array[];
}

/** Plans a loop over `shape` reading the given strided views (the output is assumed contiguous). */
export function rowPlan(shape: readonly number[], views: readonly Pick<View, 'strides' | 'offset'>[]): RowPlan {
  // Drop size-1 dims, then merge dim i into i+1 where every operand is contiguous across them.
  const dims: number[] = [];
  const strides: number[][] = views.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    dims.push(shape[i]);
    views.forEach((v, k) => strides[k].push(v.strides[i]));
  }
  for (let i = dims.length - 2; i >= 0; i--) {
    if (strides.every((s) => s[i] === s[i + 1] * dims[i + 1])) {
      dims[i] *= dims[i + 1];
      dims.splice(i + 1, 1);
      for (const s of strides) {
        s[i] = s[i + 1];
        s.splice(i + 1, 1);
      }
    }
  }
  const nd = dims.length;
  const n = nd === 0 ? 1 : dims[nd - 1];
  let rows = 1;
  for (let i = 0; i < nd - 1; i++) rows *= dims[i];
  if (shape.some((d) => d === 0)) rows = 0;
  const offsets = views.map(() => new Int32Array(rows));
  const idx = new Array<number>(Math.max(nd - 1, 0)).fill(0);
  const cur = views.map((v) => v.offset);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < views.length; k++) offsets[k][r] = cur[k];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < views.length; k++) cur[k] += strides[k][d];
      if (idx[d] < dims[d]) break;
      for (let k = 0; k < views.length; k++) cur[k] -= strides[k][d] * dims[d];
      idx[d] = 0;
    }
  }
  return { n, rows, steps: strides.map((s) => (nd === 0 ? 0 : s[nd - 1])), offsets };
}

/** Shape, strides and offset of a view as (outer, axis, inner) products for single-axis kernels. */
export function splitAt(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape[axis], inner };
}
