// Fused neural-net ops with hand-written backward: softmax, log-softmax, LayerNorm, RMSNorm; and seeded dropout.
import { record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { contiguousView, expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import { normDim } from '../internal/shape.js';
import type { Rng } from '../rng.js';
import type { Tensor } from '../tensor.js';
import { upload } from './creation.js';
import { toFloat } from './dtype.js';
import { binaryRaw } from './elementwise.js';
import { transpose } from './views.js';

function lastDimOp(name: 'softmax' | 'log_softmax', t: Tensor, dim: number): Tensor {
  const op = name === 'softmax' ? 'softmax' : 'logSoftmax';
  expectDtype(t, ['f32', 'bf16', 'f16'], op, 'x');
  const x = toFloat(t);
  const d = normDim(dim, x.ndim, op);
  if (d !== x.ndim - 1) return transpose(lastDimOp(name, transpose(x, d, -1), -1), d, -1);
  const xc = contiguousView(x, op, 'x');
  const y = wrap(kernelFor(name, op, [x])(xc.view), x.shape);
  xc.release();
  const grad = name === 'softmax' ? 'softmax_grad' : 'log_softmax_grad';
  return record(y, op, [x], (g) => {
    const gc = contiguousView(g, op, 'grad');
    const dx = wrap(kernelFor(grad, op, [y, g])(y.view(), gc.view), x.shape);
    gc.release();
    return [dx];
  });
}

/** softmax along `dim` (default last). */
export function softmax(t: Tensor, dim = -1): Tensor {
  return lastDimOp('softmax', t, dim);
}

/** log-softmax along `dim` (default last). */
export function logSoftmax(t: Tensor, dim = -1): Tensor {
  return lastDimOp('log_softmax', t, dim);
}

function checkParam(p: Tensor, c: number, op: string, arg: string): void {
  expectDtype(p, ['f32', 'bf16', 'f16'], op, arg);
  if (p.ndim !== 1 || p.shape[0] !== c) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `${op}: ${arg} ${fmtShape(p.shape)} must be (${c}), the last dim of x`, { details: { op, arg } });
  }
}

/** LayerNorm over the last dim: (x − mean)/√(var + eps)·weight + bias (bias may be null). Fused, own backward. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor | null, eps = 1e-5): Tensor {
  expectDtype(x, ['f32', 'bf16', 'f16'], 'layerNorm', 'x');
  const c = x.shape[x.ndim - 1];
  checkParam(weight, c, 'layerNorm', 'weight');
  if (bias !== null) checkParam(bias, c, 'layerNorm', 'bias');
  const xf = toFloat(x);
  const w = toFloat(weight);
  const b = bias === null ? null : toFloat(bias);
  const inputs = b === null ? [xf, w] : [xf, w, b];
  const xc = contiguousView(xf, 'layerNorm', 'x');
  const wc = contiguousView(w, 'layerNorm', 'weight');
  const bc = b === null ? null : contiguousView(b, 'layerNorm', 'bias');
  const [ys, ms, rs] = kernelFor('layernorm', 'layerNorm', inputs)(xc.view, wc.view, bc?.view ?? null, eps);
  xc.release();
  wc.release();
  bc?.release();
  const rows = xf.size / Math.max(c, 1);
  const y = wrap(ys, xf.shape);
  const mean = wrap(ms, [rows]);
  const rstd = wrap(rs, [rows]);
  return record(y, 'layerNorm', inputs, (g) => {
    const xv = contiguousView(xf, 'layerNorm', 'x');
    const wv = contiguousView(w, 'layerNorm', 'weight');
    const gv = contiguousView(g, 'layerNorm', 'grad');
    const [dx, dw, db] = kernelFor('layernorm_grad', 'layerNorm', [xf, g])(xv.view, wv.view, mean.view(), rstd.view(), gv.view);
    xv.release();
    wv.release();
    gv.release();
    const grads = [wrap(dx, xf.shape), wrap(dw, [c])];
    if (b !== null) grads.push(wrap(db, [c]));
    else wrap(db, [c]).dispose();
    return grads;
  });
}

/** RMSNorm over the last dim: x/√(mean(x²) + eps)·weight. Fused, own backward. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  expectDtype(x, ['f32', 'bf16', 'f16'], 'rmsNorm', 'x');
  const c = x.shape[x.ndim - 1];
  checkParam(weight, c, 'rmsNorm', 'weight');
  const xf = toFloat(x);
  const w = toFloat(weight);
  const xc = contiguousView(xf, 'rmsNorm', 'x');
  const wc = contiguousView(w, 'rmsNorm', 'weight');
  const [ys, rs] = kernelFor('rmsnorm', 'rmsNorm', [xf, w])(xc.view, wc.view, eps);
  xc.release();
  wc.release();
  const y = wrap(ys, xf.shape);
  const rstd = wrap(rs, [xf.size / Math.max(c, 1)]);
  return record(y, 'rmsNorm', [xf, w], (g) => {
    const xv = contiguousView(xf, 'rmsNorm', 'x');
    const wv = contiguousView(w, 'rmsNorm', 'weight');
    const gv = contiguousView(g, 'rmsNorm', 'grad');
    const [dx, dw] = kernelFor('rmsnorm_grad', 'rmsNorm', [xf, g])(xv.view, wv.view, rstd.view(), gv.view);
    xv.release();
    wv.release();
    gv.release();
    return [wrap(dx, xf.shape), wrap(dw, [c])];
  });
}

/**
 * Inverted dropout: zeroes each element with probability p (mask drawn from `rng` on the host, so
 * every backend drops the same elements) and scales the rest by 1/(1 − p). Identity when not training or p = 0.
 */
export function dropout(t: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new TensorError('TENSOR_BAD_ARGUMENT', `dropout: p = ${p} must be in [0, 1)`, { hint: 'use a probability such as 0.1' });
  if (!training || p === 0) return t;
  expectDtype(t, ['f32', 'bf16', 'f16'], 'dropout', 'x');
  const x = toFloat(t);
  const mask = new Float32Array(x.size);
  const scale = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.random() < p ? 0 : scale;
  const m = upload(mask, x.shape, { backend: x.backend });
  return record(binaryRaw('mul', x, m), 'dropout', [x], (g) => [binaryRaw('mul', g, m)]);
}
