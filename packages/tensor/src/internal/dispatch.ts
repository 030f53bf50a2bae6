// Helpers the ops share: kernel lookup across checked inputs, wrapping kernel output, contiguous and float inputs.
import { getKernel, type View } from '../backend.js';
import { TensorError, fmtShape } from '../errors.js';
import type { KernelName, KernelSignatures } from '../kernels/names.js';
import { Tensor } from '../tensor.js';
import type { Storage } from '../backend.js';
import { contiguousStrides } from './shape.js';

/** The kernel `name` for the backend the inputs live on; checks they are alive and on one backend. */
export function kernelFor<K extends KernelName>(name: K, op: string, inputs: readonly Tensor[]): KernelSignatures[K] {
  let backend: string | null = null;
  inputs.forEach((t, i) => {
    t.assertAlive(op, `input ${i}`);
    if (backend === null) backend = t.backend;
    else if (t.backend !== backend) {
      throw new TensorError('TENSOR_BACKEND_MISMATCH', `${op}: input ${i} ${fmtShape(t.shape)} is on '${t.backend}' but input 0 is on '${backend}'`, {
        hint: 'create all operands on one backend (setBackend before creating them)',
      });
    }
  });
  return getKernel(name, backend!);
}

/** Wraps fresh kernel output as a tensor. */
export function wrap(storage: Storage, shape: readonly number[]): Tensor {
  return Tensor.fromStorage(storage, shape);
}

/** A row-major, offset-0 view of `t` (copying only when needed), and a function freeing any copy made. */
export function contiguousView(t: Tensor, op: string, arg: string): { view: View; release: () => void } {
  const v = t.view(op, arg);
  if (t.isContiguous && t.offset === 0) return { view: { ...v, strides: contiguousStrides(t.shape) }, release: () => {} };
  const storage = kernelFor('copy', op, [t])(v);
  return {
    view: { storage, shape: t.shape, strides: contiguousStrides(t.shape), offset: 0 },
    release: () => {
      const tmp = Tensor.fromStorage(storage, t.shape);
      tmp.kept = true;
      tmp.dispose();
    },
  };
}

/** Throws TENSOR_DTYPE_MISMATCH unless `t` has one of the allowed dtypes. */
export function expectDtype(t: Tensor, allowed: readonly string[], op: string, arg: string): void {
  if (!allowed.includes(t.dtype)) {
    throw new TensorError('TENSOR_DTYPE_MISMATCH', `${op}: ${arg} ${fmtShape(t.shape)} has dtype ${t.dtype}, expected ${allowed.join(' or ')}`, {
      hint: t.dtype === 'i32' ? 'indices are i32; convert with toDtype(t, "f32") for arithmetic' : `convert with toDtype(t, '${allowed[0]}')`,
      details: { op, arg, dtype: t.dtype, shape: [...t.shape] },
    });
  }
}

/** Throws TENSOR_SHAPE_MISMATCH with the op, the argument and both shapes. */
export function shapeError(op: string, message: string, hint?: string): TensorError {
  return new TensorError('TENSOR_SHAPE_MISMATCH', `${op}: ${message}`, hint === undefined ? {} : { hint });
}
