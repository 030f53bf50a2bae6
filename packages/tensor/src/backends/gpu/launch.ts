// Launching a generated kernel on the gpu backend: view handles in, a new GpuStorage out.
import type { Dtype, View } from '../../backend.js';
import type { GpuRuntime, KernelSpec } from './runtime.js';
import { checkSize, empty, handleOf, wrap, type GpuStorage } from './storage.js';

/** A kernel argument: a view (its storage's texture is passed) or an intermediate storage; numbers pass as uniforms. */
export type Arg = View | GpuStorage;

/** Runs `spec` over `args` and wraps the result as a storage of `size` elements. */
export function launch(rt: GpuRuntime, op: string, spec: KernelSpec, args: readonly (Arg | number)[], size: number, dtype: Dtype = 'f32'): GpuStorage {
  if (size === 0) return empty(dtype);
  checkSize(size, op);
  const handles = args.map((a) => (typeof a === 'number' ? a : handleOf('storage' in a ? a : { storage: a, shape: [a.size], strides: [1], offset: 0 }, op)));
  return wrap(rt.run(spec, handles), size, dtype);
}

/** A contiguous view over a whole storage with the given shape. */
export function viewOf(storage: GpuStorage, shape: readonly number[]): View {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return { storage, shape, strides, offset: 0 };
}
