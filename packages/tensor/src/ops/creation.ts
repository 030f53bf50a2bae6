// Creation ops: tensors from JS data, constants, ranges and seeded random tensors.
import { findBackend, getKernel, type Dtype } from '../backend.js';
import { f32ToBf16, f32ToF16 } from '../dtype.js';
import { TensorError, fmtShape } from '../errors.js';
import { checkShape, sizeOf } from '../internal/shape.js';
import type { Rng } from '../rng.js';
import { Tensor, type NestedArray } from '../tensor.js';

/** Options of the creation functions. */
export interface TensorOptions {
  /** Element type (default 'f32'; 'i32' for Int32Array data and `arange`). */
  dtype?: Dtype;
  /** Track gradients for this leaf (default false). */
  requiresGrad?: boolean;
  /** Backend to create it on (default: the active backend). */
  backend?: string;
}

/** Options of `randn`. */
export interface RandnOptions extends TensorOptions {
  /** The seeded generator (required, so runs are reproducible). */
  rng: Rng;
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation (default 1). */
  std?: number;
}

/** Options of `rand`. */
export interface RandOptions extends TensorOptions {
  /** The seeded generator. */
  rng: Rng;
  /** Lower bound (default 0). */
  low?: number;
  /** Upper bound, exclusive (default 1). */
  high?: number;
}

/** @internal Uploads host data as a new tensor (f32/i32 data; bf16/f16 are rounded from f32). */
export function upload(data: Float32Array | Int32Array, shape: readonly number[], options: TensorOptions = {}): Tensor {
  checkShape(shape, 'tensor');
  const dtype: Dtype = options.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
  const backend = findBackend(options.backend);
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `tensor: ${data.length} values do not fill shape ${fmtShape(shape)} (${size} elements)`, {
      hint: 'pass a shape whose product equals the number of values',
    });
  }
  let payload: Float32Array | Int32Array | Uint16Array;
  if (dtype === 'f32') payload = data instanceof Float32Array ? data : Float32Array.from(data);
  else if (dtype === 'i32') payload = data instanceof Int32Array ? data : Int32Array.from(data, (v) => Math.trunc(v));
  else {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    payload = dtype === 'bf16' ? f32ToBf16(f) : f32ToF16(f);
  }
  const storage = backend.allocate(size, dtype);
  if (size > 0) backend.write(storage, payload);
  const t = Tensor.fromStorage(storage, shape);
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

function flatten(data: NestedArray | readonly NestedArray[], out: number[], shape: number[], depth: number): void {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new TensorError('TENSOR_SHAPE_MISMATCH', 'tensor: ragged nested array (a number where a list was expected)');
    out.push(data);
    return;
  }
  if (!Array.isArray(data)) throw new TensorError('TENSOR_BAD_ARGUMENT', `tensor: unsupported element ${String(data)}`, { hint: 'pass numbers, nested arrays or a typed array' });
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `tensor: ragged nested array (dim ${depth} has lengths ${shape[depth]} and ${data.length})`);
  }
  for (const d of data) flatten(d as NestedArray, out, shape, depth + 1);
}

/**
 * A tensor from a number, nested arrays or a typed array; `shape` defaults to the nesting (or 1-D).
 *
 * @example
 * tensor([[1, 2], [3, 4]]); tensor(new Int32Array([5, 7]), [2]); tensor([1, 2, 3], [3], { requiresGrad: true });
 */
export function tensor(data: number | NestedArray[] | Float32Array | Int32Array | readonly number[], shape?: readonly number[], options: TensorOptions = {}): Tensor {
  if (data instanceof Float32Array || data instanceof Int32Array) return upload(data, shape ?? [data.length], options);
  const flat: number[] = [];
  const inferred: number[] = [];
  if (typeof data === 'number') flat.push(data);
  else flatten(data as NestedArray[], flat, inferred, 0);
  const dtype = options.dtype ?? 'f32';
  const arr = dtype === 'i32' ? Int32Array.from(flat, (v) => Math.trunc(v)) : Float32Array.from(flat);
  return upload(arr, shape ?? inferred, { ...options, dtype });
}

/** A tensor wrapping a copy of a typed array with the given shape. */
export function fromArray(data: Float32Array | Int32Array, shape: readonly number[], options: TensorOptions = {}): Tensor {
  return upload(data, shape, options);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  checkShape(shape, 'full');
  const backend = findBackend(options.backend).name;
  const t = Tensor.fromStorage(getKernel('fill', backend)(sizeOf(shape), options.dtype ?? 'f32', value), shape);
  t.requiresGrad = options.requiresGrad ?? false;
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros shaped like `t`, on its backend (f32 unless given). */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { backend: t.backend, dtype: t.dtype === 'i32' ? 'i32' : 'f32', ...options });
}

/** Ones shaped like `t`, on its backend. */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { backend: t.backend, dtype: t.dtype === 'i32' ? 'i32' : 'f32', ...options });
}

/** 0, 1, …, n−1 as a 1-D tensor; i32 by default (positions, ids), or pass `{ dtype: 'f32' }`. */
export function arange(n: number, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'i32';
  const data = dtype === 'i32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i;
  return upload(data, [n], { ...options, dtype });
}

/** Normal samples N(mean, std²) from a seeded generator. */
export function randn(shape: readonly number[], options: RandnOptions): Tensor {
  checkShape(shape, 'randn');
  const data = new Float32Array(sizeOf(shape));
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  for (let i = 0; i < data.length; i++) data[i] = mean + std * options.rng.normal();
  return upload(data, shape, { ...options, dtype: options.dtype ?? 'f32' });
}

/** Uniform samples in [low, high) from a seeded generator. */
export function rand(shape: readonly number[], options: RandOptions): Tensor {
  checkShape(shape, 'rand');
  const data = new Float32Array(sizeOf(shape));
  const low = options.low ?? 0;
  const span = (options.high ?? 1) - low;
  for (let i = 0; i < data.length; i++) data[i] = low + span * options.rng.random();
  return upload(data, shape, { ...options, dtype: options.dtype ?? 'f32' });
}
