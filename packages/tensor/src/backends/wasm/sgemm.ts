// Batched single-precision matrix multiply on the WebAssembly SIMD kernels, split over the worker pool.
import { getRuntime, JOB_SGEMM, runJobs, threadsFor, type WasmRuntime } from './wasm-runtime';
import { partitionSgemm } from './sgemm-partition';
import { WasmKernelError } from './wasm-kernel-error';

/** Arguments of {@link sgemm}: C = op(A)·op(B) (+ C), row-major, optionally batched. */
export interface SgemmArgs {
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A) = rows of op(B). */
  k: number;
  /** A, stored (m × k), or (k × m) when transA. */
  a: Float32Array;
  /** Index of A's first element in `a`. Default 0. */
  aOffset?: number;
  /** Row stride of stored A in elements. Default: its column count (transA ? m : k). */
  lda?: number;
  /** op(A) = Aᵀ. Default false. */
  transA?: boolean;
  /** B, stored (k × n), or (n × k) when transB. */
  b: Float32Array;
  /** Index of B's first element in `b`. Default 0. */
  bOffset?: number;
  /** Row stride of stored B in elements. Default: its column count (transB ? k : n). */
  ldb?: number;
  /** op(B) = Bᵀ. Default false. */
  transB?: boolean;
  /** C (m × n), written in place. */
  c: Float32Array;
  /** Index of C's first element in `c`. Default 0. */
  cOffset?: number;
  /** Row stride of C in elements. Default n. */
  ldc?: number;
  /** 0: C = op(A)·op(B); 1: C += op(A)·op(B). Default 0. */
  beta?: 0 | 1;
  /** Number of independent products. Default 1. */
  batch?: number;
  /** Elements between consecutive A matrices (0 shares one A across the batch). Default: rows × lda of stored A. */
  strideA?: number;
  /** Elements between consecutive B matrices (0 shares one B). Default: rows × ldb of stored B. */
  strideB?: number;
  /** Elements between consecutive C matrices. Default m × ldc. */
  strideC?: number;
}

/** Below this many flops a call runs on the calling thread only: waking workers costs more than it saves. */
export const PARALLEL_MIN_FLOPS = 2 * 96 * 96 * 96;

/** The kind word plus the 22 four-byte fields of the SgemmJob struct in c/sgemm.c. */
const JOB_WORDS = 23;

/** A validated operand: where it is, and (for plain arrays) its staging copy in the shared memory. */
interface Operand {
  array: Float32Array;
  offset: number;
  /** Elements from offset to one past the last element read or written. */
  span: number;
  /** Byte address of element `offset` inside the shared memory. */
  address: number;
  /** Byte offset of the staging copy to free afterwards, or -1 when the array is used in place. */
  staged: number;
}

/**
 * C = op(A)·op(B) (beta 0) or C += op(A)·op(B) (beta 1), for `batch` matrices at once. Synchronous;
 * call after {@link initWasmKernels}. Transposed operands are read in place by the packing routine
 * (no copy). Arrays from allocF32 are used in place; ordinary Float32Arrays are copied into the
 * shared memory and C copied back. Large products are split over the worker threads.
 *
 * @example
 * // (2×3)·(3×2)
 * sgemm({ m: 2, n: 2, k: 3, a: new Float32Array([1, 2, 3, 4, 5, 6]), b: new Float32Array([1, 0, 0, 1, 1, 1]), c });
 */
export function sgemm(args: SgemmArgs): void {
  const rt = getRuntime();
  const { m, n, k } = args;
  const transA = args.transA ?? false;
  const transB = args.transB ?? false;
  const beta = args.beta ?? 0;
  const batch = args.batch ?? 1;
  for (const [name, value] of [['m', m], ['n', n], ['k', k], ['batch', batch]] as const) checkCount(name, value);
  if (beta !== 0 && beta !== 1) fail('TENSOR_BAD_ARGUMENT', `beta must be 0 or 1, got ${String(beta)}`);
  const lda = args.lda ?? (transA ? m : k);
  const ldb = args.ldb ?? (transB ? k : n);
  const ldc = args.ldc ?? n;
  const strideA = args.strideA ?? (transA ? k : m) * lda;
  const strideB = args.strideB ?? (transB ? n : k) * ldb;
  const strideC = args.strideC ?? m * ldc;
  if (batch > 1 && strideC < m * ldc && m * n > 0) {
    fail('TENSOR_BAD_ARGUMENT', `strideC ${strideC} makes the ${batch} C matrices (${m} × ldc ${ldc}) overlap`, 'use strideC ≥ m × ldc');
  }
  if (m === 0 || n === 0 || batch === 0) return;

  const operands: Operand[] = [];
  try {
    const a = operand(rt, operands, 'a', args.a, args.aOffset ?? 0, transA ? k : m, transA ? m : k, lda, batch, strideA);
    const b = operand(rt, operands, 'b', args.b, args.bOffset ?? 0, transB ? n : k, transB ? k : n, ldb, batch, strideB);
    const c = operand(rt, operands, 'c', args.c, args.cOffset ?? 0, m, n, ldc, batch, strideC);
    const flops = 2 * m * n * k * batch;
    const threads = threadsFor(rt, flops, PARALLEL_MIN_FLOPS);
    const blocks = partitionSgemm(batch, m, n, threads);
    const jobs = blocks.map((block, t) => {
      const ctx = rt.contexts[t];
      const words = rt.heap.i32(ctx.job, JOB_WORDS);
      words.set([
        JOB_SGEMM,
        m, n, k,
        a.address, lda, transA ? 1 : 0,
        b.address, ldb, transB ? 1 : 0,
        c.address, ldc, beta,
        block.batch0, block.batch1, strideA, strideB, strideC,
        block.row0, block.row1, block.col0, block.col1,
        ctx.scratch,
      ]);
      return ctx.job;
    });
    runJobs(rt, jobs);
    if (c.staged >= 0) args.c.set(rt.heap.f32(c.staged, c.span), c.offset);
  } finally {
    for (const op of operands) if (op.staged >= 0) rt.heap.release(op.staged);
  }
}

/** Validates one operand's extent and finds (or stages) it in the shared memory. */
function operand(
  rt: WasmRuntime, operands: Operand[], name: 'a' | 'b' | 'c',
  array: Float32Array, offset: number, rows: number, cols: number, ld: number, batch: number, stride: number,
): Operand {
  if (!(array instanceof Float32Array)) fail('TENSOR_BAD_ARGUMENT', `${name} must be a Float32Array, got ${describe(array)}`);
  checkCount(`${name}Offset`, offset);
  checkCount(`ld${name}`, ld);
  checkCount(`stride${name.toUpperCase()}`, stride);
  // NOTE: an operand with no elements (k = 0) is never read, so any leading dimension will do.
  if (rows > 0 && cols > 0 && ld < cols) {
    fail('TENSOR_SHAPE_MISMATCH', `ld${name} ${ld} is less than the ${cols} columns of stored ${name} (${rows} × ${cols})`, `pass ld${name} ≥ ${cols}`);
  }
  const span = rows === 0 || cols === 0 ? 0 : (batch - 1) * stride + (rows - 1) * ld + cols;
  if (offset + span > array.length) {
    fail(
      'TENSOR_INDEX_OUT_OF_RANGE',
      `${name}: ${batch} × (${rows} × ${cols}) with ld ${ld}, stride ${stride}, offset ${offset} needs ${offset + span} elements, the array has ${array.length}`,
      'check the shape, leading dimension, batch stride and offset',
    );
  }
  const op: Operand = { array, offset, span, address: 0, staged: -1 };
  if (rt.heap.owns(array)) {
    op.address = array.byteOffset + 4 * offset;
  } else {
    op.staged = rt.heap.alloc(4 * Math.max(span, 1));
    operands.push(op);
    // NOTE: C is copied in too: beta 1 reads it, and the gaps between rows (ldc > n) must survive the copy back.
    rt.heap.f32(op.staged, span).set(array.subarray(offset, offset + span));
    op.address = op.staged;
  }
  return op;
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    fail('TENSOR_BAD_ARGUMENT', `${name} must be a non-negative integer, got ${String(value)}`);
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? (value as object).constructor.name : typeof value;
}

function fail(code: 'TENSOR_BAD_ARGUMENT' | 'TENSOR_SHAPE_MISMATCH' | 'TENSOR_INDEX_OUT_OF_RANGE', detail: string, hint?: string): never {
  throw new WasmKernelError(code, `sgemm: ${detail}`, hint === undefined ? {} : { hint });
}
