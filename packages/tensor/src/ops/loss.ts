// Fused softmax cross-entropy over (N, V) logits with i32 targets, ignoreIndex and mean/sum/none reduction.
import { record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { contiguousView, expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import type { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { toFloat } from './dtype.js';
import { binaryRaw } from './elementwise.js';
import { broadcastTo } from './views.js';

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Target value whose rows contribute nothing (default −100, as in PyTorch). */
  ignoreIndex?: number;
  /** 'mean' over non-ignored rows (default), 'sum', or 'none' for per-row losses (N). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Softmax cross-entropy of logits (N, V) against class ids (N) in one fused kernel (no (N, V) softmax is kept).
 *
 * @example
 * const loss = crossEntropy(logits.reshape([-1, vocab]), targets.reshape([-1]));
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  expectDtype(logits, ['f32', 'bf16', 'f16'], 'crossEntropy', 'logits');
  expectDtype(targets, ['i32'], 'crossEntropy', 'targets');
  if (logits.ndim !== 2 || targets.ndim !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `crossEntropy: logits ${fmtShape(logits.shape)} and targets ${fmtShape(targets.shape)} must be (N, V) and (N)`, {
      hint: 'flatten first: logits.reshape([-1, V]), targets.reshape([-1])',
    });
  }
  const [n, v] = logits.shape;
  const tdata = targets.data() as Int32Array;
  let counted = 0;
  for (let i = 0; i < tdata.length; i++) {
    const t = tdata[i];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < v)) {
      throw new TensorError('TENSOR_INDEX_OUT_OF_RANGE', `crossEntropy: targets[${i}] = ${t} is outside [0, ${v}) for logits ${fmtShape(logits.shape)}`, {
        hint: `targets must be class ids below the vocabulary size, or ignoreIndex (${ignoreIndex})`,
        details: { op: 'crossEntropy', index: i, value: t, classes: v },
      });
    }
    counted++;
  }
  const x = toFloat(logits);
  const xc = contiguousView(x, 'crossEntropy', 'logits');
  const tc = contiguousView(targets, 'crossEntropy', 'targets');
  const [ls, lse] = kernelFor('cross_entropy', 'crossEntropy', [x, targets])(xc.view, tc.view, ignoreIndex);
  xc.release();
  tc.release();
  const rowLoss = wrap(ls, [n]);
  const lseT = wrap(lse, [n]);
  const perRowGrad = (dloss: Tensor): Tensor => {
    const xv = contiguousView(x, 'crossEntropy', 'logits');
    const tv = contiguousView(targets, 'crossEntropy', 'targets');
    const gv = contiguousView(dloss, 'crossEntropy', 'grad');
    const dx = wrap(kernelFor('cross_entropy_grad', 'crossEntropy', [x, dloss])(xv.view, tv.view, lseT.view(), gv.view, ignoreIndex), [n, v]);
    xv.release();
    tv.release();
    gv.release();
    return dx;
  };
  if (reduction === 'none') return record(rowLoss, 'crossEntropy', [x], (g) => [perRowGrad(g)]);
  const sumK = kernelFor('sum', 'crossEntropy', [rowLoss]);
  const total = wrap(sumK(rowLoss.view(), 0), []);
  const denom = reduction === 'mean' ? Math.max(counted, 1) : 1;
  // NOTE: a mean over zero counted rows is 0/1 = 0 rather than PyTorch's NaN, so all-padding batches do not poison training.
  const out = reduction === 'mean' ? binaryRaw('div', total, full([], denom, { backend: x.backend })) : total;
  return record(out, 'crossEntropy', [x], (g) => {
    const scaled = denom === 1 ? g : binaryRaw('div', g, full([], denom, { backend: g.backend }));
    return [perRowGrad(broadcastTo(scaled, [n]))];
  });
}
