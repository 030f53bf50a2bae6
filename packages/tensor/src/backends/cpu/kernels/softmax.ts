// cpu softmax / log-softmax over the last dim, forward and backward, one row at a time.
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32 } from '../storage.js';
import { wasmRowSoftmax } from '../wasm.js';
import { getCpuGemm } from './matmul.js';
import { newF32 } from '../wasm-storage.js';

function rowsOf(v: View): { rows: number; n: number } {
  const n = v.shape[v.shape.length - 1] ?? 1;
  let size = 1;
  for (const d of v.shape) size *= d;
  return { rows: n === 0 ? 0 : size / n, n };
}

/** `softmax` kernel. */
export function softmax(x: View): Storage {
  const src = f32(x.storage);
  const { rows, n } = rowsOf(x);
  const out = newF32(rows * n);
  getCpuGemm(); // settles wasm vs JS
  const simd = wasmRowSoftmax();
  if (simd !== null) {
    simd({ x: src, y: out, rows, cols: n, xOffset: x.offset });
    return cpuStorage('f32', out);
  }
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let m = -Infinity;
    for (let i = 0; i < n; i++) { const v = src[o + i]; if (v > m || v !== v) m = v; }
    let s = 0;
    for (let i = 0; i < n; i++) { const e = Math.exp(src[o + i] - m); out[o + i] = e; s += e; }
    const inv = 1 / s;
    for (let i = 0; i < n; i++) out[o + i] *= inv;
  }
  return cpuStorage('f32', out);
}

/** `softmax_grad` kernel: dx = y·(dy − Σ y·dy). */
export function softmaxGrad(y: View, dy: View): Storage {
  const yd = f32(y.storage);
  const gd = f32(dy.storage);
  const { rows, n } = rowsOf(y);
  const out = newF32(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += yd[o + i] * gd[o + i];
    for (let i = 0; i < n; i++) out[o + i] = yd[o + i] * (gd[o + i] - dot);
  }
  return cpuStorage('f32', out);
}

/** `log_softmax` kernel. */
export function logSoftmax(x: View): Storage {
  const src = f32(x.storage);
  const { rows, n } = rowsOf(x);
  const out = newF32(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let m = -Infinity;
    for (let i = 0; i < n; i++) { const v = src[o + i]; if (v > m || v !== v) m = v; }
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(src[o + i] - m);
    const lse = m + Math.log(s);
    for (let i = 0; i < n; i++) out[o + i] = src[o + i] - lse;
  }
  return cpuStorage('f32', out);
}

/** `log_softmax_grad` kernel: dx = dy − exp(y)·Σ dy. */
export function logSoftmaxGrad(y: View, dy: View): Storage {
  const yd = f32(y.storage);
  const gd = f32(dy.storage);
  const { rows, n } = rowsOf(y);
  const out = newF32(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += gd[o + i];
    for (let i = 0; i < n; i++) out[o + i] = gd[o + i] - Math.exp(yd[o + i]) * s;
  }
  return cpuStorage('f32', out);
}
