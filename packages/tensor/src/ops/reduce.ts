// Reductions sum / mean / max over one, several or all dims, with their gradients.
import { record } from '../autograd.js';
import { expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import { contiguousStrides, normDim } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { toFloat } from './dtype.js';
import { binaryRaw } from './elementwise.js';
import { broadcastTo, contiguous, reshape } from './views.js';

function dimsOf(t: Tensor, dim: number | readonly number[] | undefined, op: string): number[] {
  if (dim === undefined) return t.shape.map((_, i) => i).reverse();
  const list = typeof dim === 'number' ? [dim] : [...dim];
  return [...new Set(list.map((d) => normDim(d, t.ndim, op)))].sort((a, b) => b - a);
}

function keptShape(shape: readonly number[], dims: number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

// The checks and operands every reduction starts from: a float input, the reduced dims, the keepDim shape.
function reduction(t: Tensor, dim: number | readonly number[] | undefined, op: string): { x: Tensor; dims: number[]; kept: number[] } {
  expectDtype(t, ['f32', 'bf16', 'f16'], op, 'x');
  const x = toFloat(t);
  const dims = dimsOf(x, dim, op);
  return { x, dims, kept: keptShape(x.shape, dims) };
}

// Applies a one-axis reduction kernel over each dim (highest first); no autograd.
// Adjacent reduced dims are merged into one (a free reshape of contiguous data), so (B, T, C) → (C) is one pass.
function reduceRaw(kernel: 'sum' | 'max', t: Tensor, dims: number[], op: string): Tensor {
  let cur = contiguous(t);
  const run = kernelFor(kernel, op, [t]);
  let i = 0;
  while (i < dims.length) {
    const hi = dims[i]; // dims are sorted high to low; a run hi, hi−1, …, lo is reduced in one pass
    let lo = hi;
    while (i + 1 < dims.length && dims[i + 1] === lo - 1) lo = dims[++i];
    i++;
    const merged = [...cur.shape.slice(0, lo), cur.shape.slice(lo, hi + 1).reduce((p, d) => p * d, 1), ...cur.shape.slice(hi + 1)];
    const v = { ...cur.view(op), shape: merged, strides: contiguousStrides(merged) };
    const next = wrap(run(v, lo), merged.filter((_, k) => k !== lo));
    if (cur !== t) cur.dispose();
    cur = next;
  }
  return cur === t ? wrap(kernelFor('copy', op, [t])(t.view(op)), t.shape) : cur;
}

/** @internal Sum over dims without autograd, keeping them as size 1 (used by broadcast backward). */
export function sumDimsRaw(t: Tensor, dims: number[]): Tensor {
  const sorted = [...dims].sort((a, b) => b - a);
  const r = reduceRaw('sum', t, sorted, 'sum');
  return reshape(r, keptShape(t.shape, sorted));
}

/** Σ over `dim` (a dim, a list, or all when omitted); `keepDim` keeps reduced dims as size 1. */
export function sum(t: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  const { x, dims, kept } = reduction(t, dim, 'sum');
  const r = reduceRaw('sum', x, dims, 'sum');
  const out = keepDim ? reshape(r, kept) : r;
  return record(out, 'sum', [x], (g) => [broadcastTo(reshape(g, kept), x.shape)]);
}

/** Mean over `dim` (or all). */
export function mean(t: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  const { x, dims, kept } = reduction(t, dim, 'mean');
  const count = dims.reduce((p, d) => p * x.shape[d], 1);
  const s = reduceRaw('sum', x, dims, 'mean');
  const out = binaryRaw('div', keepDim ? reshape(s, kept) : s, full([], count, { backend: x.backend }));
  return record(out, 'mean', [x], (g) => [broadcastTo(binaryRaw('div', reshape(g, kept), full([], count, { backend: g.backend })), x.shape)]);
}

/** Max over `dim` (or all); NaN propagates. The gradient is split evenly among tied maxima. */
export function max(t: Tensor, dim?: number, keepDim = false): Tensor {
  const { x, dims, kept } = reduction(t, dim, 'max');
  const r = reduceRaw('max', x, dims, 'max');
  const out = keepDim ? reshape(r, kept) : r;
  return record(out, 'max', [x], (g) => {
    const m = reshape(out, kept);
    const mask = binaryRaw('eq', x, m);
    const count = sumDimsRaw(mask, dims);
    return [binaryRaw('mul', mask, binaryRaw('div', reshape(g, kept), count))];
  });
}
