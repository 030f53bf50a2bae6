// cpu LayerNorm and RMSNorm over the last dim, with their fused backward (float64 row statistics).
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32 } from '../storage.js';
import { newF32, newF32Uninit } from '../wasm-storage.js';

function dims(x: View): { rows: number; c: number } {
  const c = x.shape[x.shape.length - 1];
  let size = 1;
  for (const d of x.shape) size *= d;
  return { rows: c === 0 ? 0 : size / c, c };
}

/** `layernorm` kernel: returns [y, mean, rstd]. */
export function layernorm(x: View, w: View, b: View | null, eps: number): [Storage, Storage, Storage] {
  const xd = f32(x.storage);
  const wd = f32(w.storage);
  const bd = b === null ? null : f32(b.storage);
  const { rows, c } = dims(x);
  const y = newF32Uninit(rows * c); // every element is written
  const mean = newF32(rows);
  const rstd = newF32(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let s = 0;
    for (let i = 0; i < c; i++) s += xd[o + i];
    const mu = s / c;
    let v = 0;
    for (let i = 0; i < c; i++) { const d = xd[o + i] - mu; v += d * d; }
    const rs = 1 / Math.sqrt(v / c + eps);
    mean[r] = mu;
    rstd[r] = rs;
    if (bd === null) for (let i = 0; i < c; i++) y[o + i] = (xd[o + i] - mu) * rs * wd[i];
    else for (let i = 0; i < c; i++) y[o + i] = (xd[o + i] - mu) * rs * wd[i] + bd[i];
  }
  return [cpuStorage('f32', y), cpuStorage('f32', mean), cpuStorage('f32', rstd)];
}

/** `layernorm_grad` kernel: returns [dx, dw, db]. */
export function layernormGrad(x: View, w: View, mean: View, rstd: View, dy: View): [Storage, Storage, Storage] {
  const xd = f32(x.storage);
  const wd = f32(w.storage);
  const md = f32(mean.storage);
  const rd = f32(rstd.storage);
  const gd = f32(dy.storage);
  const { rows, c } = dims(x);
  const dx = newF32Uninit(rows * c);
  const dw = new Float64Array(c);
  const db = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    const mu = md[r];
    const rs = rd[r];
    let sg = 0;
    let sgx = 0;
    for (let i = 0; i < c; i++) {
      const xh = (xd[o + i] - mu) * rs;
      const g = gd[o + i];
      const gw = g * wd[i];
      sg += gw;
      sgx += gw * xh;
      dw[i] += g * xh;
      db[i] += g;
    }
    sg /= c;
    sgx /= c;
    for (let i = 0; i < c; i++) {
      const xh = (xd[o + i] - mu) * rs;
      dx[o + i] = rs * (gd[o + i] * wd[i] - sg - xh * sgx);
    }
  }
  return [cpuStorage('f32', dx), cpuStorage('f32', Float32Array.from(dw)), cpuStorage('f32', Float32Array.from(db))];
}

/** `rmsnorm` kernel: returns [y, rstd]. */
export function rmsnorm(x: View, w: View, eps: number): [Storage, Storage] {
  const xd = f32(x.storage);
  const wd = f32(w.storage);
  const { rows, c } = dims(x);
  const y = newF32(rows * c);
  const rstd = newF32(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    let ss = 0;
    for (let i = 0; i < c; i++) ss += xd[o + i] * xd[o + i];
    const rs = 1 / Math.sqrt(ss / c + eps);
    rstd[r] = rs;
    for (let i = 0; i < c; i++) y[o + i] = xd[o + i] * rs * wd[i];
  }
  return [cpuStorage('f32', y), cpuStorage('f32', rstd)];
}

/** `rmsnorm_grad` kernel: returns [dx, dw]. */
export function rmsnormGrad(x: View, w: View, rstd: View, dy: View): [Storage, Storage] {
  const xd = f32(x.storage);
  const wd = f32(w.storage);
  const rd = f32(rstd.storage);
  const gd = f32(dy.storage);
  const { rows, c } = dims(x);
  const dx = newF32(rows * c);
  const dw = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    const rs = rd[r];
    let sgx = 0;
    for (let i = 0; i < c; i++) {
      const xh = xd[o + i] * rs;
      const g = gd[o + i];
      sgx += g * wd[i] * xh;
      dw[i] += g * xh;
    }
    sgx /= c;
    for (let i = 0; i < c; i++) dx[o + i] = rs * (gd[o + i] * wd[i] - xd[o + i] * rs * sgx);
  }
  return [cpuStorage('f32', dx), cpuStorage('f32', Float32Array.from(dw))];
}
