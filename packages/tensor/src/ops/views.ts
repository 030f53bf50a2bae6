// Shape ops: reshape, transpose, permute, slice, broadcast (views, no copy where possible), contiguous, concat, split.
import { record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { kernelFor, wrap } from '../internal/dispatch.js';
import { sliceGrad } from '../internal/grad-sum.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, normDim, sizeOf } from '../internal/shape.js';
import { Tensor } from '../tensor.js';
import { sumDimsRaw } from './reduce.js';

function viewOf(t: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(t.ref, shape, strides, offset);
}

/**
 * A contiguous tensor with the same values: `t` itself when already contiguous (unless `force`,
 * which also compacts offset and storage size).
 */
export function contiguous(t: Tensor, force = false): Tensor {
  t.assertAlive('contiguous');
  if (!force && t.isContiguous) return t;
  const out = wrap(kernelFor('copy', 'contiguous', [t])(t.view('contiguous')), t.shape);
  return record(out, 'contiguous', [t], (g) => [g]);
}

/** Same values in a new shape (one dim may be −1); a view when `t` is contiguous, else a copy. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  t.assertAlive('reshape');
  const resolved = [...shape];
  const free = resolved.indexOf(-1);
  const known = resolved.reduce((p, d, i) => (i === free ? p : p * d), 1);
  if (free >= 0) resolved[free] = known === 0 ? 0 : t.size / known;
  if (!resolved.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(resolved) !== t.size || resolved.filter((d) => d === -1).length > 0) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `reshape: cannot view ${fmtShape(t.shape)} (${t.size} elements) as ${fmtShape(shape)}`, {
      hint: 'the product of the new dims must equal the element count; use at most one −1',
      details: { op: 'reshape', from: [...t.shape], to: [...shape] },
    });
  }
  const base = t.isContiguous ? t : contiguous(t);
  const out = viewOf(base, resolved, contiguousStrides(resolved), base.offset);
  if (base !== t) base.dispose();
  return record(out, 'reshape', [t], (g) => [reshape(g, t.shape)]);
}

/** Swaps two dims (a view). */
export function transpose(t: Tensor, dim0 = -2, dim1 = -1): Tensor {
  t.assertAlive('transpose');
  const a = normDim(dim0, t.ndim, 'transpose');
  const b = normDim(dim1, t.ndim, 'transpose');
  const perm = t.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(t, perm);
}

/** Reorders dims: output dim i is input dim `dims[i]` (a view). */
export function permute(t: Tensor, dims: readonly number[]): Tensor {
  t.assertAlive('permute');
  const norm = dims.map((d) => normDim(d, t.ndim, 'permute'));
  if (norm.length !== t.ndim || new Set(norm).size !== t.ndim) {
    throw new TensorError('TENSOR_BAD_ARGUMENT', `permute: [${dims.join(', ')}] is not a permutation of the ${t.ndim} dims of ${fmtShape(t.shape)}`);
  }
  const out = viewOf(t, norm.map((d) => t.shape[d]), norm.map((d) => t.strides[d]), t.offset);
  const inverse = new Array<number>(norm.length);
  norm.forEach((d, i) => (inverse[d] = i));
  return record(out, 'permute', [t], (g) => [permute(g, inverse)]);
}

/** Elements [start, end) along `dim` (negative indices count from the end, bounds clamp as in Python); a view. */
export function slice(t: Tensor, dim: number, start: number, end?: number): Tensor {
  t.assertAlive('slice');
  const d = normDim(dim, t.ndim, 'slice');
  const n = t.shape[d];
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clamp(start);
  const e = Math.max(s, clamp(end ?? n));
  const shape = [...t.shape];
  shape[d] = e - s;
  const out = viewOf(t, shape, t.strides, t.offset + s * t.strides[d]);
  // NOTE: the gradient is handed back as a slice, so the pieces of a split sum into one buffer.
  return record(out, 'slice', [t], (g) => [sliceGrad(g, d, s)]);
}

/** Broadcasts to `shape` (stride-0 view). */
export function broadcastTo(t: Tensor, shape: readonly number[]): Tensor {
  t.assertAlive('broadcastTo');
  if (shape.length === t.ndim && shape.every((d, i) => d === t.shape[i])) return t;
  const strides = broadcastStrides(t.shape, t.strides, shape, 'broadcastTo');
  const out = viewOf(t, shape, strides, t.offset);
  return record(out, 'broadcastTo', [t], (g) => [sumToShape(g, t.shape)]);
}

/** @internal Sums a broadcast gradient back down to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  broadcastShapes(g.shape, shape, 'sumToShape');
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  return reshape(sumDimsRaw(g, dims), shape);
}

/** Inserts a dim of size 1 at `dim`. */
export function unsqueeze(t: Tensor, dim: number): Tensor {
  const d = normDim(dim, t.ndim + 1, 'unsqueeze');
  const shape = [...t.shape];
  shape.splice(d, 0, 1);
  return reshapeView(t, shape);
}

/** Removes dim `dim` (must be 1), or every size-1 dim. */
export function squeeze(t: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshapeView(t, t.shape.filter((d) => d !== 1));
  const d = normDim(dim, t.ndim, 'squeeze');
  if (t.shape[d] !== 1) throw new TensorError('TENSOR_SHAPE_MISMATCH', `squeeze: dim ${dim} of ${fmtShape(t.shape)} has size ${t.shape[d]}, not 1`);
  return reshapeView(t, t.shape.filter((_, i) => i !== d));
}

/** Merges dims startDim..endDim into one. */
export function flatten(t: Tensor, startDim = 0, endDim = -1): Tensor {
  if (t.ndim === 0) return reshape(t, [1]);
  const s = normDim(startDim, t.ndim, 'flatten');
  const e = normDim(endDim, t.ndim, 'flatten');
  return reshape(t, [...t.shape.slice(0, s), sizeOf(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)]);
}

// Adding or removing size-1 dims never needs a copy: keep the other strides.
function reshapeView(t: Tensor, shape: readonly number[]): Tensor {
  t.assertAlive('reshape');
  const kept: number[] = [];
  t.shape.forEach((d, i) => {
    if (d !== 1) kept.push(t.strides[i]);
  });
  let k = 0;
  const strides = shape.map((d) => (d === 1 ? 0 : kept[k++]));
  const out = viewOf(t, shape, strides, t.offset);
  return record(out, 'reshape', [t], (g) => [reshape(g, t.shape)]);
}

/** Joins tensors along `dim` (all other dims equal). */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new TensorError('TENSOR_BAD_ARGUMENT', 'concat: needs at least one tensor');
  const first = tensors[0];
  const d = normDim(dim, first.ndim, 'concat');
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j]) || t.dtype !== first.dtype) {
      throw new TensorError('TENSOR_SHAPE_MISMATCH', `concat: tensor ${i} ${fmtShape(t.shape)} ${t.dtype} does not match tensor 0 ${fmtShape(first.shape)} ${first.dtype} outside dim ${d}`);
    }
  });
  const shape = [...first.shape];
  shape[d] = tensors.reduce((p, t) => p + t.shape[d], 0);
  const out = wrap(kernelFor('fill', 'concat', tensors)(sizeOf(shape), first.dtype, 0), shape);
  const strides = contiguousStrides(shape);
  const assign = kernelFor('assign', 'concat', tensors);
  let at = 0;
  const starts: number[] = [];
  for (const t of tensors) {
    starts.push(at);
    assign({ storage: out.ref.storage, shape: t.shape, strides, offset: at * strides[d] }, t.view('concat'));
    at += t.shape[d];
  }
  return record(out, 'concat', [...tensors], (g) => tensors.map((t, i) => slice(g, d, starts[i], starts[i] + t.shape[d])));
}

/** Splits along `dim` into pieces of the given sizes (or of one size, the last piece shorter); views. */
export function split(t: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim(dim, t.ndim, 'split');
  const n = t.shape[d];
  let list: number[];
  if (typeof sizes === 'number') {
    if (!(sizes > 0)) throw new TensorError('TENSOR_BAD_ARGUMENT', `split: size ${sizes} must be positive`);
    list = [];
    for (let i = 0; i < n; i += sizes) list.push(Math.min(sizes, n - i));
  } else list = [...sizes];
  if (list.reduce((p, s) => p + s, 0) !== n) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `split: sizes [${list.join(', ')}] do not add up to dim ${d} of ${fmtShape(t.shape)} (${n})`);
  }
  let at = 0;
  return list.map((s) => {
    const piece = slice(t, d, at, at + s);
    at += s;
    return piece;
  });
}
