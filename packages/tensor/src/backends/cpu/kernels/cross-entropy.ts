// cpu fused softmax cross-entropy over (N, V) logits with i32 targets and an ignore index.
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32, i32 } from '../storage.js';
import { newF32 } from '../wasm-storage.js';
import { wasmRowSoftmax } from '../wasm.js';
import { getCpuGemm } from './matmul.js';

/** `cross_entropy` kernel: returns [loss (N), lse (N)]. */
export function crossEntropy(logits: View, targets: View, ignoreIndex: number): [Storage, Storage] {
  const x = f32(logits.storage);
  const t = i32(targets.storage);
  const [rows, v] = logits.shape;
  const loss = newF32(rows);
  const lse = newF32(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * v;
    let m = -Infinity;
    for (let i = 0; i < v; i++) { const z = x[o + i]; if (z > m || z !== z) m = z; }
    let s = 0;
    for (let i = 0; i < v; i++) s += Math.exp(x[o + i] - m);
    const l = m + Math.log(s);
    lse[r] = l;
    const target = t[r];
    loss[r] = target === ignoreIndex ? 0 : l - x[o + target];
  }
  return [cpuStorage('f32', loss), cpuStorage('f32', lse)];
}

/** `cross_entropy_grad` kernel: dlogits = dloss·(softmax − onehot). */
export function crossEntropyGrad(logits: View, targets: View, lse: View, dloss: View, ignoreIndex: number): Storage {
  const x = f32(logits.storage);
  const t = i32(targets.storage);
  const l = f32(lse.storage);
  const g = f32(dloss.storage);
  const [rows, v] = logits.shape;
  const dx = newF32(rows * v);
  // softmax(x) = exp(x − lse): the SIMD row softmax when the wasm kernels are in use; rows whose lse is not
  // finite (NaN or ±Inf logits) take the JS formula so NaN/Inf propagate exactly as in the reference.
  getCpuGemm(); // settles wasm vs JS
  const simd = rows * v > 0 ? wasmRowSoftmax() : null;
  if (simd !== null) simd({ x, y: dx, rows, cols: v, xOffset: logits.offset });
  for (let r = 0; r < rows; r++) {
    const target = t[r];
    const o = r * v;
    if (target === ignoreIndex) {
      if (simd !== null) dx.fill(0, o, o + v);
      continue;
    }
    const gr = g[r];
    const lr = l[r];
    if (simd !== null && Number.isFinite(lr)) for (let i = 0; i < v; i++) dx[o + i] *= gr;
    else for (let i = 0; i < v; i++) dx[o + i] = gr * Math.exp(x[o + i] - lr);
    dx[o + target] -= gr;
  }
  return cpuStorage('f32', dx);
}
