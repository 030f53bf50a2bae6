// Shape arithmetic shared by the ops: sizes, strides, broadcasting, dim normalization.
import { TensorError, fmtShape } from '../errors.js';

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when strides are row-major for the shape (dims of size 1 may have any stride). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

/** Resolves a possibly negative dim against `ndim`; throws naming the op. */
export function normDim(dim: number, ndim: number, op: string): number {
  const d = dim < 0 ? dim + ndim : dim;
  if (!Number.isInteger(d) || d < 0 || d >= ndim) {
    throw new TensorError('TENSOR_INDEX_OUT_OF_RANGE', `${op}: dim ${dim} is out of range for a tensor with ${ndim} dims`, {
      hint: `use a dim in [${-ndim}, ${ndim - 1}]`,
      details: { op, dim, ndim },
    });
  }
  return d;
}

/** The broadcast shape of two shapes (numpy rules), or a TENSOR_SHAPE_MISMATCH naming the op. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError('TENSOR_SHAPE_MISMATCH', `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dim ${i}: ${da} vs ${db})`, {
        hint: 'dims must be equal or 1, aligned from the right; reshape one operand',
        details: { op, a: [...a], b: [...b] },
      });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a (shape, strides) view as `target` (prepending dims, stride 0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[], op: string): number[] {
  const n = target.length;
  if (shape.length > n) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `${op}: cannot broadcast ${fmtShape(shape)} to ${fmtShape(target)}`, { details: { op } });
  }
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const ti = n - shape.length + i;
    if (shape[i] === target[ti]) out[ti] = shape[i] === 1 ? 0 : strides[i];
    else if (shape[i] === 1) out[ti] = 0;
    else {
      throw new TensorError('TENSOR_SHAPE_MISMATCH', `${op}: cannot broadcast ${fmtShape(shape)} to ${fmtShape(target)} (dim ${i}: ${shape[i]} vs ${target[ti]})`, {
        hint: 'dims must be equal or 1, aligned from the right',
        details: { op, shape: [...shape], target: [...target] },
      });
    }
  }
  return out;
}

/** Checks a shape is a list of non-negative integers. */
export function checkShape(shape: readonly number[], op: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorError('TENSOR_BAD_ARGUMENT', `${op}: shape ${fmtShape(shape)} has a dim that is not a non-negative integer`, { details: { op, shape: [...shape] } });
    }
  }
}
