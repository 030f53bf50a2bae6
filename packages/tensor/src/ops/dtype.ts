// Dtype conversion op: toDtype (rounding to bf16/f16 storage; gradients pass straight through in f32).
import { record } from '../autograd.js';
import type { Dtype } from '../backend.js';
import { kernelFor, wrap } from '../internal/dispatch.js';
import type { Tensor } from '../tensor.js';

/** @internal Cast without autograd. */
export function castRaw(t: Tensor, dtype: Dtype): Tensor {
  return wrap(kernelFor('cast', 'toDtype', [t])(t.view('toDtype'), dtype), t.shape);
}

/**
 * Converts to another dtype: f32 → bf16/f16 rounds to nearest even (NaN/Inf kept); floats → i32 truncate.
 * Between float dtypes the gradient passes through unchanged (as f32).
 */
export function toDtype(t: Tensor, dtype: Dtype): Tensor {
  t.assertAlive('toDtype');
  if (t.dtype === dtype) return t;
  const out = castRaw(t, dtype);
  if (dtype === 'i32' || t.dtype === 'i32') return out;
  return record(out, 'toDtype', [t], (g) => [g]);
}

/** @internal f32 for compute: bf16/f16 are upcast (differentiably), f32 passes through. */
export function toFloat(t: Tensor): Tensor {
  return t.dtype === 'f32' ? t : toDtype(t, 'f32');
}
