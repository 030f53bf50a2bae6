// Bias add on the wasm SIMD GEMM: rows of x plus one broadcast row b as a copy and a rank-1 update C += 1·b.
import { releaseF32, newF32 } from '../wasm-storage.js';
import type { RowPlan } from '../strided.js';
import { wasmGemm } from '../wasm.js';

/** Smallest output (elements) worth a GEMM call; below it the JS loop is as fast. */
export const BIAS_GEMM_MIN = 8192;

// A column of ones, grown on demand (the A operand of the rank-1 update).
let ones: Float32Array = new Float32Array(0);

/**
 * out = x + b where, in plan `p`, operand `full` walks contiguous rows and the other operand repeats one
 * contiguous row (a bias broadcast over the leading dims). Runs as out ← x, then out += 1·b on the wasm
 * GEMM (about 4× the JS loop; the sum is rounded once, as in the loop). Returns false, doing nothing,
 * when the wasm kernels are off, the output is small, or the operands do not have that form.
 */
export function biasAddGemm(p: RowPlan, full: 0 | 1, x: Float32Array, b: Float32Array, out: Float32Array): boolean {
  const gemm = wasmGemm();
  const { n, rows } = p;
  if (gemm === null || rows * n < BIAS_GEMM_MIN || rows < 2) return false;
  const row = 1 - full;
  if (p.steps[full] !== 1 || p.steps[row] !== 1) return false;
  const x0 = p.offsets[full][0];
  const b0 = p.offsets[row][0];
  for (let r = 1; r < rows; r++) if (p.offsets[full][r] !== x0 + r * n || p.offsets[row][r] !== b0) return false;
  if (ones.length < rows) {
    releaseF32(ones);
    ones = newF32(rows).fill(1);
  }
  out.set(x.subarray(x0, x0 + rows * n));
  gemm({ m: rows, n, k: 1, a: ones, aOffset: 0, lda: 1, transA: false, b, bOffset: b0, ldb: n, transB: false, c: out, cOffset: 0, ldc: n, beta: 1 });
  return true;
}
