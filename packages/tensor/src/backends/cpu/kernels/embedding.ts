// cpu embedding gather and its scatter-add backward.
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32, i32 } from '../storage.js';
import { newF32 } from '../wasm-storage.js';

/** `embedding` kernel: (V, C) rows gathered by ids → (…, C). */
export function embedding(w: View, ids: View): Storage {
  const wd = f32(w.storage);
  const id = i32(ids.storage);
  const c = w.shape[1];
  const n = id.length === 0 ? 0 : ids.shape.reduce((p, d) => p * d, 1);
  const out = newF32(n * c);
  for (let r = 0; r < n; r++) out.set(wd.subarray(id[r] * c, id[r] * c + c), r * c);
  return cpuStorage('f32', out);
}

/** `embedding_grad` kernel: scatter-add dy rows into a (vocab, C) gradient. */
export function embeddingGrad(ids: View, dy: View, vocab: number): Storage {
  const id = i32(ids.storage);
  const g = f32(dy.storage);
  const c = dy.shape[dy.shape.length - 1];
  const n = ids.shape.reduce((p, d) => p * d, 1);
  const dw = newF32(vocab * c);
  for (let r = 0; r < n; r++) {
    const o = id[r] * c;
    const s = r * c;
    for (let j = 0; j < c; j++) dw[o + j] += g[s + j];
  }
  return cpuStorage('f32', dw);
}
