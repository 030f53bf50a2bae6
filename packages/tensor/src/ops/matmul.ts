// Batched matrix product with broadcasting batch dims and transposed operands read as views (no copies).
import { record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import { broadcastShapes, broadcastStrides } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import { toFloat } from './dtype.js';
import { reshape, sumToShape, transpose } from './views.js';

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Use aᵀ (swap a's last two dims) without copying (default false). */
  transA?: boolean;
  /** Use bᵀ (swap b's last two dims) without copying (default false). */
  transB?: boolean;
}

// op(a)·op(b) with no autograd; a, b at least 2-D.
function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const k2 = b.shape[b.ndim - 2];
  const n = b.shape[b.ndim - 1];
  if (k !== k2) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `matmul: a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}: inner dims ${k} ≠ ${k2}`, {
      hint: 'a is (…, M, K) and b is (…, K, N); pass { transB: true } if b is stored (N, K)',
      details: { op: 'matmul', a: [...a.shape], b: [...b.shape] },
    });
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  const as = [...batch, m, k];
  const bs = [...batch, k, n];
  const run = kernelFor('matmul', 'matmul', [a, b]);
  const out = run(
    { ...a.view('matmul', 'a'), shape: as, strides: broadcastStrides(a.shape, a.strides, as, 'matmul') },
    { ...b.view('matmul', 'b'), shape: bs, strides: broadcastStrides(b.shape, b.strides, bs, 'matmul') },
  );
  return wrap(out, [...batch, m, n]);
}

// d op(b): a 2-D b shared across a's batch gets one (K, batch·M)·(batch·M, N) product, summed over the
// batch inside the GEMM, instead of `batch` products and a reduction over a (batch, K, N) temporary.
function bGrad(xa: Tensor, yb: Tensor, g: Tensor): Tensor {
  if (yb.ndim === 2 && xa.ndim > 2 && g.ndim === xa.ndim && xa.isContiguous) {
    const k = xa.shape[xa.ndim - 1];
    const n = g.shape[g.ndim - 1];
    const x2 = reshape(xa, [-1, k]);
    const g2 = reshape(g, [-1, n]);
    // b given as the transpose of a row-major (N, K) weight: produce the gradient in that layout, (N, K) =
    // gᵀ·x, and hand back its transpose as a view, so the weight's gradient needs no transposing copy.
    if (yb.strides[0] === 1 && yb.strides[1] === k) return transpose(matmulRaw(transpose(g2, -2, -1), x2), -2, -1);
    return matmulRaw(transpose(x2, -2, -1), g2);
  }
  return sumToShape(matmulRaw(transpose(xa, -2, -1), g), yb.shape);
}

/**
 * Matrix product over the last two dims, batched (with broadcasting) over the leading ones.
 * 1-D operands are treated as a row (a) or a column (b) and that dim is dropped from the result.
 *
 * @example
 * matmul(x, w, { transB: true }); // x (B, T, C) · wᵀ with w stored (N, C) → (B, T, N)
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  expectDtype(a, ['f32', 'bf16', 'f16'], 'matmul', 'a');
  expectDtype(b, ['f32', 'bf16', 'f16'], 'matmul', 'b');
  if (a.ndim === 0 || b.ndim === 0) throw new TensorError('TENSOR_SHAPE_MISMATCH', `matmul: operands need ≥ 1 dim, got a ${fmtShape(a.shape)}, b ${fmtShape(b.shape)}`);
  let x = toFloat(a);
  let y = toFloat(b);
  const vecA = x.ndim === 1;
  const vecB = y.ndim === 1;
  if (vecA) x = reshape(x, [1, x.shape[0]]);
  if (vecB) y = reshape(y, [y.shape[0], 1]);
  const xa = options.transA ? transpose(x, -2, -1) : x; // op(a): views, no copy
  const yb = options.transB ? transpose(y, -2, -1) : y;
  let out = record(matmulRaw(xa, yb), 'matmul', [xa, yb], (g) => [
    xa.requiresGrad ? sumToShape(matmulRaw(g, transpose(yb, -2, -1)), xa.shape) : null,
    yb.requiresGrad ? bGrad(xa, yb, g) : null,
  ]);
  if (vecA) out = reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]]);
  if (vecB) out = reshape(out, out.shape.slice(0, -1));
  return out;
}
