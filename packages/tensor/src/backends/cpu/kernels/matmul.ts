// cpu matmul kernel: maps strided (…batch, M, K)·(…batch, K, N) views onto GEMM calls without copying transposes.
import type { Storage, View } from '../../../backend.js';
import { sgemmJs, type Sgemm, type SgemmParams } from '../gemm.js';
import { useJsKernels, useWasmKernels } from '../wasm.js';
import { cpuStorage, f32 } from '../storage.js';
import { rowPlan, type RowPlan } from '../strided.js';
import { copy } from './elementwise.js';
import { newF32, newF32Uninit, releaseF32 } from '../wasm-storage.js';

// null until first use, which tries the wasm SIMD kernels (LMKIT_TENSOR_WASM=0 keeps the JS GEMM).
let gemm: Sgemm | null = null;

/** Replaces the GEMM behind the cpu matmul and attention (useWasmKernels / useJsKernels call this). */
export function setCpuGemm(fn: Sgemm): void {
  gemm = fn;
}

/** The GEMM currently behind the cpu matmul; the first call picks the wasm kernels when they start. */
export function getCpuGemm(): Sgemm {
  if (gemm === null) {
    if (typeof process !== 'undefined' && process.env?.LMKIT_TENSOR_WASM === '0') useJsKernels();
    else useWasmKernels();
  }
  return gemm ?? sgemmJs;
}

// One matmul's GEMM parameters before the batch offsets and strides are filled in.
type GemmBase = Omit<SgemmParams, 'aOffset' | 'bOffset' | 'cOffset' | 'batch' | 'strideA' | 'strideB' | 'strideC'>;

interface Layout {
  trans: boolean;
  ld: number;
  view: View;
}

// Row-major when the last dim is unit-stride, transposed when the one before is; otherwise copy.
function layout(v: View, rows: number, cols: number): Layout {
  const nd = v.shape.length;
  const sr = v.strides[nd - 2];
  const sc = v.strides[nd - 1];
  if (sc === 1 || cols === 1) return { trans: false, ld: rows === 1 ? cols : sr, view: v };
  if (sr === 1 || rows === 1) return { trans: true, ld: cols === 1 ? rows : sc, view: v };
  const c = copy(v);
  const strides = v.shape.map(() => 0);
  let s = 1;
  for (let i = nd - 1; i >= 0; i--) {
    strides[i] = s;
    s *= v.shape[i];
  }
  return { trans: false, ld: cols, view: { storage: c, shape: v.shape, strides, offset: 0 } };
}

/** `matmul` kernel. */
export function matmul(a: View, b: View): Storage {
  const gemm = getCpuGemm();
  const nd = a.shape.length;
  const m = a.shape[nd - 2];
  const k = a.shape[nd - 1];
  const n = b.shape[nd - 1];
  const batchShape = a.shape.slice(0, nd - 2);
  let batch = 1;
  for (const d of batchShape) batch *= d;
  const out = k === 0 ? newF32(batch * m * n) : newF32Uninit(batch * m * n); // beta 0 writes all of C
  if (batch === 0 || m === 0 || n === 0) return cpuStorage('f32', out);
  const la = layout(a, m, k);
  const lb = layout(b, k, n);
  const av = la.view;
  const bv = lb.view;
  const ad = f32(av.storage);
  const bd = f32(bv.storage);
  // Batch offsets: one GEMM call when the batch dims collapse to one uniform stride.
  const plan = rowPlan([...batchShape, 1], [
    { strides: [...av.strides.slice(0, nd - 2), 0], offset: av.offset },
    { strides: [...bv.strides.slice(0, nd - 2), 0], offset: bv.offset },
  ]);
  const base: GemmBase = { m, n, k, a: ad, lda: la.ld, transA: la.trans, b: bd, ldb: lb.ld, transB: lb.trans, c: out, ldc: n, beta: 0 as const };
  try {
    run(gemm, base, plan, av, batch);
  } finally {
    // A strided operand copied by layout() is a temporary: free it now rather than when collected.
    if (av.storage !== a.storage) releaseF32(f32(av.storage));
    if (bv.storage !== b.storage) releaseF32(f32(bv.storage));
  }
  return cpuStorage('f32', out);
}

// The GEMM call(s) of one matmul: one call when the batch dims collapse, else one per batch row.
function run(gemm: Sgemm, base: GemmBase, plan: RowPlan, av: View, batch: number): void {
  const mn = base.m * base.n;
  if (plan.rows === 1) {
    // A shared B (batch stride 0) with A's batches stacked row after row is one taller product:
    // (batch·M, K)·(K, N) in one call, which the GEMM partitions better than `batch` short ones.
    if (batch > 1 && plan.steps[1] === 0 && !base.transA && plan.steps[0] === base.m * base.lda) {
      gemm({ ...base, m: batch * base.m, aOffset: av.offset, bOffset: plan.offsets[1][0], cOffset: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      return;
    }
    gemm({ ...base, aOffset: plan.offsets[0][0], bOffset: plan.offsets[1][0], cOffset: 0, batch, strideA: batch > 1 ? plan.steps[0] : 0, strideB: batch > 1 ? plan.steps[1] : 0, strideC: mn });
    return;
  }
  let q = 0;
  for (let r = 0; r < plan.rows; r++) {
    gemm({ ...base, aOffset: plan.offsets[0][r], bOffset: plan.offsets[1][r], cOffset: q * mn, batch: plan.n, strideA: plan.steps[0], strideB: plan.steps[1], strideC: mn });
    q += plan.n;
  }
}
