// cpu reductions over one axis of a contiguous view (float64 accumulation; max propagates NaN).
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32 } from '../storage.js';
import { splitAt } from '../strided.js';
import { newF32 } from '../wasm-storage.js';

/** `sum` kernel. */
export function sum(x: View, axis: number): Storage {
  const src = f32(x.storage);
  const { outer, n, inner } = splitAt(x.shape, axis);
  const out = newF32(outer * inner);
  const base = x.offset;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const row = base + o * n;
      for (let i = 0; i < n; i++) s += src[row + i];
      out[o] = s;
    }
  } else {
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let i = 0; i < n; i++) {
        const row = base + (o * n + i) * inner;
        for (let j = 0; j < inner; j++) acc[j] += src[row + j];
      }
      for (let j = 0; j < inner; j++) out[o * inner + j] = acc[j];
    }
  }
  return cpuStorage('f32', out);
}

/** `max` kernel. */
export function max(x: View, axis: number): Storage {
  const src = f32(x.storage);
  const { outer, n, inner } = splitAt(x.shape, axis);
  const out = newF32(outer * inner).fill(-Infinity);
  const base = x.offset;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const row = base + (o * n + i) * inner;
      for (let j = 0; j < inner; j++) {
        const v = src[row + j];
        const k = o * inner + j;
        if (v > out[k] || v !== v) out[k] = v;
      }
    }
  }
  return cpuStorage('f32', out);
}
