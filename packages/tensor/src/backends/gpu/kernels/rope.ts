// Rotary position embedding on the gpu backend (pairs (i, i + D/2), GPT-NeoX/LLaMA-HF layout).
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, decompose, layoutKey, numel } from '../source.js';
import { uploadStorage } from '../storage.js';

/**
 * x (B, H, T, D) rotated by angle (t + positionOffset)·theta^(−2i/D) on pair (i, i + D/2).
 * NOTE: the cos/sin table is computed in float64 on the host and uploaded (T·D floats), so
 * large positions lose no accuracy to the shader's f32 sin/cos.
 */
export function rope(rt: GpuRuntime, x: View, positionOffset: number, theta: number, inverse: boolean): Storage {
  const [, , t, d] = x.shape as [number, number, number, number];
  const half = d / 2;
  const table = new Float32Array(2 * t * half);
  for (let p = 0; p < t; p++) {
    const pos = p + positionOffset;
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / d);
      table[p * half + i] = Math.cos(angle);
      table[t * half + p * half + i] = inverse ? -Math.sin(angle) : Math.sin(angle);
    }
  }
  const size = numel(x.shape);
  const tab = uploadStorage(rt, table, 'f32');
  const ds = x.strides[3]!;
  const source = `function(x, tab) {
  const o = this.thread.x;
  ${decompose(x.shape, 'o', 'i')}
  const k = i3 < ${half} ? i3 : i3 - ${half};
  const cs = tab[i2 * ${half} + k];
  const sn = tab[${t * half} + i2 * ${half} + k];
  const self = x[${at(x, 'i')}];
  const other = x[${at(x, 'i')} + (i3 < ${half} ? ${half * ds} : ${-half * ds})];
  return i3 < ${half} ? self * cs - other * sn : self * cs + other * sn;
}`;
  try {
    return launch(rt, 'rope', { key: `rope:${layoutKey(x)}`, source, output: [size] }, [x, tab], size);
  } finally {
    tab.release();
  }
}
