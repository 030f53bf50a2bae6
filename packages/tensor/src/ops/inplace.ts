// In-place writes outside autograd: overwrite a tensor from host data or from another tensor (optimizer steps, caches).
import { findBackend } from '../backend.js';
import { f32ToBf16, f32ToF16 } from '../dtype.js';
import { TensorError, fmtShape } from '../errors.js';
import { kernelFor } from '../internal/dispatch.js';
import { broadcastStrides } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import { castRaw } from './dtype.js';

/** @internal Overwrites a contiguous tensor's elements from host data. */
export function writeInto(t: Tensor, data: Float32Array | Int32Array | ArrayLike<number>): void {
  t.assertAlive('write');
  if (data.length !== t.size) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `write: ${data.length} values for a tensor ${fmtShape(t.shape)} of ${t.size} elements`);
  }
  if (!t.isContiguous) throw new TensorError('TENSOR_BAD_ARGUMENT', `write: tensor ${fmtShape(t.shape)} is a non-contiguous view`, { hint: 'write to the contiguous base tensor, or use assign()' });
  let payload: Float32Array | Int32Array | Uint16Array;
  if (t.dtype === 'i32') payload = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
  else {
    const f = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    payload = t.dtype === 'f32' ? f : t.dtype === 'bf16' ? f32ToBf16(f) : f32ToF16(f);
  }
  findBackend(t.backend).write(t.ref.storage, payload, t.offset);
}

/** @internal Copies src (broadcast to t's shape, cast to t's dtype) into t. */
export function assignInto(t: Tensor, src: Tensor): void {
  t.assertAlive('assign', 'target');
  src.assertAlive('assign', 'source');
  const s = src.dtype === t.dtype ? src : castRaw(src, t.dtype);
  const sv = { ...s.view('assign', 'source'), shape: t.shape, strides: broadcastStrides(s.shape, s.strides, t.shape, 'assign') };
  kernelFor('assign', 'assign', [t, s])(t.view('assign', 'target'), sv);
  if (s !== src) s.dispose();
}
