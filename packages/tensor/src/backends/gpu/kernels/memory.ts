// Memory gpu kernels: fill, strided copy, strided assign and dtype casts.
import type { Dtype, Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, decompose, layoutKey, numel } from '../source.js';
import { downloadHandle, empty, handleOf, GpuStorage, uploadStorage, deleteHandle, checkSize } from '../storage.js';
import { castHost } from '../dtype.js';

/** New storage of `size` elements equal to `value` (non-finite values are uploaded: GLSL has no literal for them). */
export function fill(rt: GpuRuntime, size: number, dtype: Dtype, value: number): Storage {
  if (size === 0) return empty(dtype);
  checkSize(size, 'fill');
  if (!Number.isFinite(value) || !rt.info.onGl) return uploadStorage(rt, new Float32Array(size).fill(value), dtype);
  // NOTE: the value is a uniform, not a literal: scalars (learning rates, 1/n) change every step and
  // must not compile a shader each.
  return launch(rt, 'fill', { key: `fill:${size}`, source: 'function(v) { return v; }', output: [size], argumentTypes: ['Float'] }, [Math.fround(value)], size, dtype);
}

/** Contiguous copy of a strided view, same dtype. */
export function copy(rt: GpuRuntime, x: View): Storage {
  const n = numel(x.shape);
  const source = `function(x) {
  const o = this.thread.x;
  ${decompose(x.shape, 'o', 'i')}
  return x[${at(x, 'i')}];
}`;
  return launch(rt, 'copy', { key: `copy:${layoutKey(x)}`, source, output: [n] }, [x], n, x.storage.dtype);
}

/**
 * Writes strided `src` into strided `dst`. NOTE: a texture cannot be written in place from a kernel
 * that also reads it at arbitrary strides, so this reads both back, scatters on the host and
 * re-uploads dst's storage — correct for every layout, and rare on the training path.
 */
export function assign(rt: GpuRuntime, dst: View, src: View): void {
  const n = numel(dst.shape);
  if (n === 0) return;
  const target = dst.storage as GpuStorage;
  const whole = downloadHandle(rt, handleOf(dst, 'assign'), target.size);
  const srcCopy = copy(rt, src) as GpuStorage;
  const values = downloadHandle(rt, handleOf({ storage: srcCopy, shape: [n], strides: [1], offset: 0 }, 'assign'), n);
  srcCopy.release();
  const idx = new Array<number>(dst.shape.length).fill(0);
  for (let e = 0; e < n; e++) {
    let p = dst.offset;
    for (let d = 0; d < idx.length; d++) p += idx[d]! * dst.strides[d]!;
    whole[p] = values[e]!;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < dst.shape[d]!) break;
      idx[d] = 0;
    }
  }
  const next = uploadStorage(rt, whole, target.dtype);
  deleteHandle(target.handle);
  target.handle = next.handle;
}

/** Contiguous copy converted to `dtype`; the bit-exact rounding is done on the host (GLSL ES 1.0 has no bit operations). */
export function cast(rt: GpuRuntime, x: View, dtype: Dtype): Storage {
  const contiguous = copy(rt, x) as GpuStorage;
  if (contiguous.dtype === dtype) return contiguous;
  const n = contiguous.size;
  const host = downloadHandle(rt, handleOf({ storage: contiguous, shape: [n], strides: [1], offset: 0 }, 'cast'), n);
  contiguous.release();
  return uploadStorage(rt, castHost(host, x.storage.dtype, dtype), dtype);
}
