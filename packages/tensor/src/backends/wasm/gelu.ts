// GELU (tanh approximation) forward and backward on the WebAssembly SIMD kernels, split over the worker pool.
import { getRuntime, JOB_GELU, JOB_GELU_GRAD, runJobs, threadsFor } from './wasm-runtime';
import { WasmKernelError } from './wasm-kernel-error';

/** Arguments of {@link geluTanh}: y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise. */
export interface GeluArgs {
  /** Input, `length` elements. */
  x: Float32Array;
  /** Output, `length` elements; may be x (in place). */
  y: Float32Array;
  /** Number of elements. Default: x.length. */
  length?: number;
}

/** Arguments of {@link geluTanhGrad}: dx = dy · d gelu(x) / dx, elementwise. */
export interface GeluGradArgs {
  /** The forward input, `length` elements. */
  x: Float32Array;
  /** Upstream gradient, `length` elements. */
  dy: Float32Array;
  /** Output gradient, `length` elements; may be x or dy (in place). */
  dx: Float32Array;
  /** Number of elements. Default: x.length. */
  length?: number;
}

/** Below this many elements a call runs on the calling thread only. */
export const GELU_PARALLEL_MIN = 1 << 16;

/**
 * GELU with the tanh approximation (GPT-2's), in f32 with a SIMD tanh (abs error ≤ ~1e-7 of the
 * tanh). Arrays from allocF32 are used in place, others are copied in and out. Synchronous.
 *
 * @example
 * geluTanh({ x: hidden, y: hidden }); // in place
 */
export function geluTanh(args: GeluArgs): void {
  const length = args.length ?? args.x.length;
  run('geluTanh', JOB_GELU, length, [['x', args.x], ['y', args.y]], 'y');
}

/** The gradient of {@link geluTanh}: dx = dy · gelu′(x). Same conventions. */
export function geluTanhGrad(args: GeluGradArgs): void {
  const length = args.length ?? args.x.length;
  run('geluTanhGrad', JOB_GELU_GRAD, length, [['x', args.x], ['dy', args.dy], ['dx', args.dx]], 'dx');
}

/** Validates, stages plain arrays, splits [0, length) over the threads and runs `kind`. */
function run(op: string, kind: number, length: number, arrays: [string, Float32Array][], output: string): void {
  const rt = getRuntime();
  if (!Number.isInteger(length) || length < 0) {
    throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `${op}: length must be a non-negative integer, got ${String(length)}`);
  }
  for (const [name, array] of arrays) {
    if (!(array instanceof Float32Array)) throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `${op}: ${name} must be a Float32Array`);
    if (array.length < length) {
      throw new WasmKernelError('TENSOR_INDEX_OUT_OF_RANGE', `${op}: ${name} has ${array.length} elements, ${length} needed`);
    }
  }
  if (length === 0) return;
  const { heap } = rt;
  const staged: number[] = [];
  try {
    // Plain arrays get a staging copy each (the output's is not filled in, it is copied back).
    const addresses = arrays.map(([name, array]) => {
      if (heap.owns(array)) return array.byteOffset;
      const at = heap.alloc(4 * length);
      staged.push(at);
      if (name !== output) heap.f32(at, length).set(array.subarray(0, length));
      return at;
    });
    const [x, second, third] = addresses;
    const dy = kind === JOB_GELU_GRAD ? second : 0;
    const out = kind === JOB_GELU_GRAD ? third : second;
    const threads = threadsFor(rt, length, GELU_PARALLEL_MIN);
    const jobs: number[] = [];
    for (let t = 0; t < threads; t++) {
      // Cut on multiples of 4 so every thread but the last runs whole vectors.
      const i0 = Math.min(length, 4 * Math.round((t * length) / threads / 4));
      const i1 = t === threads - 1 ? length : Math.min(length, 4 * Math.round(((t + 1) * length) / threads / 4));
      heap.i32(rt.contexts[t].job, 6).set([kind, i0, i1, x, dy, out]);
      jobs.push(rt.contexts[t].job);
    }
    runJobs(rt, jobs);
    const outArray = arrays.find(([name]) => name === output)![1];
    if (!heap.owns(outArray)) outArray.set(heap.f32(out, length));
  } finally {
    for (const at of staged) heap.release(at);
  }
}
