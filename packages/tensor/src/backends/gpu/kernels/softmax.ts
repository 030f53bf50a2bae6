// Softmax and log-softmax over the last dim on the gpu backend, forward and backward.
import type { Storage, View } from '../../../backend.js';
import { rowDot, rowLogSumExp, rowMap, rowSum } from './row-stats.js';
import type { GpuRuntime } from '../runtime.js';

/** softmax(x) = exp(x − lse(x)) per row. */
export function softmax(rt: GpuRuntime, x: View): Storage {
  const lse = rowLogSumExp(rt, x);
  try {
    return rowMap(rt, 'softmax', [x], [lse], [], 'const r = Math.exp(v0 - r0);');
  } finally {
    lse.release();
  }
}

/** log_softmax(x) = x − lse(x) per row. */
export function logSoftmax(rt: GpuRuntime, x: View): Storage {
  const lse = rowLogSumExp(rt, x);
  try {
    return rowMap(rt, 'log_softmax', [x], [lse], [], 'const r = v0 - r0;');
  } finally {
    lse.release();
  }
}

/** dx = y·(dy − Σ y·dy) from the softmax output y. */
export function softmaxGrad(rt: GpuRuntime, y: View, dy: View): Storage {
  const dot = rowDot(rt, y, dy);
  try {
    return rowMap(rt, 'softmax_grad', [y, dy], [dot], [], 'const r = v0 * (v1 - r0);');
  } finally {
    dot.release();
  }
}

/** dx = dy − exp(y)·Σ dy from the log-softmax output y. */
export function logSoftmaxGrad(rt: GpuRuntime, y: View, dy: View): Storage {
  const sum = rowSum(rt, dy);
  try {
    return rowMap(rt, 'log_softmax_grad', [y, dy], [sum], [], 'const r = v1 - Math.exp(v0) * r0;');
  } finally {
    sum.release();
  }
}
