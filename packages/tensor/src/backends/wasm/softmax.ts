// Row softmax on the WebAssembly SIMD kernels (vector exp), split over the worker pool by rows.
import { getRuntime, JOB_SOFTMAX, runJobs, threadsFor } from './wasm-runtime';
import { WasmKernelError } from './wasm-kernel-error';

/** Arguments of {@link softmaxRows}: y[r, :] = softmax(x[r, :]) for a row-major (rows × cols) block. */
export interface SoftmaxRowsArgs {
  /** Input, (rows × cols) contiguous from xOffset. */
  x: Float32Array;
  /** Output, (rows × cols) contiguous from yOffset; may be the same array as x (in place). */
  y: Float32Array;
  /** Number of rows. */
  rows: number;
  /** Length of each row (the softmax dimension). */
  cols: number;
  /** Index of x's first element. Default 0. */
  xOffset?: number;
  /** Index of y's first element. Default 0. */
  yOffset?: number;
}

/** Below this many elements a call runs on the calling thread only. */
export const SOFTMAX_PARALLEL_MIN = 1 << 16;

/**
 * y = exp(x − max) / Σ exp(x − max) along each row, in f32 with a SIMD exp (≤ 2 ulp). −Infinity
 * entries (masks) give exact zeros; a row containing NaN gives NaN. Synchronous; call after
 * {@link initWasmKernels}. Arrays from allocF32 are used in place, others are copied in and out.
 *
 * @example
 * softmaxRows({ x: scores, y: scores, rows: B * H * T, cols: T }); // in place
 */
export function softmaxRows(args: SoftmaxRowsArgs): void {
  const rt = getRuntime();
  const { x, y, rows, cols } = args;
  const xOffset = args.xOffset ?? 0;
  const yOffset = args.yOffset ?? 0;
  for (const [name, value] of [['rows', rows], ['cols', cols], ['xOffset', xOffset], ['yOffset', yOffset]] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `softmaxRows: ${name} must be a non-negative integer, got ${String(value)}`);
    }
  }
  for (const [name, array, offset] of [['x', x, xOffset], ['y', y, yOffset]] as const) {
    if (!(array instanceof Float32Array)) throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `softmaxRows: ${name} must be a Float32Array`);
    if (offset + rows * cols > array.length) {
      throw new WasmKernelError(
        'TENSOR_INDEX_OUT_OF_RANGE',
        `softmaxRows: ${name} needs ${offset + rows * cols} elements for (${rows} × ${cols}) at offset ${offset}, it has ${array.length}`,
      );
    }
  }
  const size = rows * cols;
  if (size === 0) return;
  const { heap } = rt;
  // Plain arrays: x is staged and the softmax runs in place there, then copied out to y.
  const xInPlace = heap.owns(x);
  const yInPlace = heap.owns(y);
  const staged = xInPlace && yInPlace ? -1 : heap.alloc(4 * size);
  try {
    let xAddress = x.byteOffset + 4 * xOffset;
    let yAddress = y.byteOffset + 4 * yOffset;
    if (staged >= 0) {
      if (!xInPlace) {
        heap.f32(staged, size).set(x.subarray(xOffset, xOffset + size));
        xAddress = staged;
      }
      if (!yInPlace) yAddress = staged;
    }
    const threads = Math.min(threadsFor(rt, size, SOFTMAX_PARALLEL_MIN), rows);
    const jobs: number[] = [];
    for (let t = 0; t < threads; t++) {
      const ctx = rt.contexts[t];
      const row0 = Math.round((t * rows) / threads);
      const row1 = Math.round(((t + 1) * rows) / threads);
      heap.i32(ctx.job, 7).set([JOB_SOFTMAX, rows, cols, xAddress, yAddress, row0, row1]);
      jobs.push(ctx.job);
    }
    runJobs(rt, jobs);
    if (!yInPlace) y.set(heap.f32(staged, size), yOffset);
  } finally {
    if (staged >= 0) heap.release(staged);
  }
}
