// cpu rotary position embedding on (B, H, T, D), half-split pairs (i, i + D/2) as in GPT-NeoX / HF LLaMA.
import type { Storage, View } from '../../../backend.js';
import { cpuStorage, f32 } from '../storage.js';
import { newF32 } from '../wasm-storage.js';

/** `rope` kernel; `inverse` rotates by −angle (the backward). */
export function rope(x: View, positionOffset: number, theta: number, inverse: boolean): Storage {
  const src = f32(x.storage);
  const nd = x.shape.length;
  const t = x.shape[nd - 2];
  const d = x.shape[nd - 1];
  const half = d >> 1;
  let heads = 1;
  for (let i = 0; i < nd - 2; i++) heads *= x.shape[i];
  const cos = new Float64Array(t * half);
  const sin = new Float64Array(t * half);
  for (let p = 0; p < t; p++) {
    const pos = p + positionOffset;
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / d);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = inverse ? -Math.sin(angle) : Math.sin(angle);
    }
  }
  const out = newF32(heads * t * d);
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < t; p++) {
      const o = (h * t + p) * d;
      const c = p * half;
      for (let i = 0; i < half; i++) {
        const x1 = src[o + i];
        const x2 = src[o + i + half];
        out[o + i] = x1 * cos[c + i] - x2 * sin[c + i];
        out[o + i + half] = x1 * sin[c + i] + x2 * cos[c + i];
      }
    }
  }
  return cpuStorage('f32', out);
}
