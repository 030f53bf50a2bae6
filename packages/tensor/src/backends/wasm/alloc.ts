// Float buffers inside the kernels' shared memory, so tensors can be computed on in place without copies.
import { getRuntime } from './wasm-runtime';
import { WasmKernelError } from './wasm-kernel-error';

/**
 * Allocates `length` zeroed floats inside the kernels' shared WebAssembly memory and returns a view.
 * Kernels read and write such views in place (no copy). The view stays valid when the memory grows
 * (it is shared, so it never detaches) until {@link freeF32}. Throws TENSOR_OUT_OF_MEMORY past 4 GiB.
 *
 * @example
 * const a = allocF32(64 * 64); // fill, pass to sgemm, then:
 * freeF32(a);
 */
export function allocF32(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0) {
    throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `allocF32: length must be a non-negative integer, got ${length}`);
  }
  const { heap } = getRuntime();
  const view = heap.f32(heap.alloc(length * 4), length);
  view.fill(0);
  return view;
}

/** Frees a view returned by {@link allocF32} (pass the view itself, not a subarray of it). */
export function freeF32(view: Float32Array): void {
  const { heap } = getRuntime();
  if (!heap.owns(view)) {
    throw new WasmKernelError('TENSOR_BAD_ARGUMENT', 'freeF32: the array is not inside the wasm kernels\' memory', {
      hint: 'only free arrays that allocF32 returned',
    });
  }
  heap.release(view.byteOffset);
}

/** True when `view` lives in the kernels' shared memory (kernels then use it without copying). */
export function isWasmF32(view: Float32Array): boolean {
  return getRuntime().heap.owns(view);
}
