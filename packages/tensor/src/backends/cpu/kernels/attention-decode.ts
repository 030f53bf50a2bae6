// cpu attention for a few query rows (KV-cache decoding): per query row q·Kᵀ, a stable softmax and p·V over the visible keys, K/V read in place.
import type { Storage, View } from '../../../backend.js';
import type { AttentionKernelOptions } from '../../../kernels/names.js';
import { cpuStorage, f32 } from '../storage.js';
import { wasmAttentionDecode } from '../wasm.js';
import { newF32 } from '../wasm-storage.js';

/** Most query rows (T) the decode path takes; longer queries go to the tiled kernel, whose GEMMs pay off there. */
export const DECODE_ROWS_MAX = 8;

/** Most keys (S) the decode path takes (the wasm kernel keeps a row's scores in its 557k-float thread scratch). */
export const DECODE_KEYS_MAX = 1 << 19;

/** True when `attention` should take the decode path for these shapes. */
export function useDecodePath(t: number, s: number): boolean {
  return t <= DECODE_ROWS_MAX && s <= DECODE_KEYS_MAX;
}

/**
 * Forward attention for small T: returns [o (B, H, T, D), lse (B, H, T)] like the tiled kernel. On the wasm
 * kernels it runs in SIMD f32 over the worker pool; on the JS kernels in float64 (the reference).
 */
export function attentionDecode(q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage] {
  const [b, h, t, d] = q.shape;
  const hkv = k.shape[1];
  const s = k.shape[2];
  const units = b * h * t;
  const qd = q.offset === 0 ? f32(q.storage) : f32(q.storage).subarray(q.offset);
  const out = newF32(units * d);
  const lse = newF32(units);
  const wasm = wasmAttentionDecode();
  if (wasm !== null) {
    const stats = new Float32Array(2 * units);
    wasm({
      q: qd, k: f32(k.storage), kOffset: k.offset, kStride: k.strides[1], v: f32(v.storage), vOffset: v.offset, vStride: v.strides[1],
      out, stats, batch: b, heads: h, kvHeads: hkv, rows: t, keys: s, dim: d,
      causal: opts.causal, positionOffset: opts.positionOffset, scale: opts.scale, slopes: opts.alibiSlopes,
    });
    for (let u = 0; u < units; u++) lse[u] = logSumExp(stats[2 * u], stats[2 * u + 1]);
  } else {
    decodeJs(qd, k, v, out, lse, { b, h, hkv, t, s, d }, opts);
  }
  return [cpuStorage('f32', out), cpuStorage('f32', lse)];
}

// lse from a row's max m and Σ exp(s − m): −∞ when no key is visible, NaN when a score was NaN.
function logSumExp(m: number, sum: number): number {
  if (sum > 0) return m + Math.log(sum);
  return m === m ? -Infinity : NaN;
}

interface Shape {
  b: number;
  h: number;
  hkv: number;
  t: number;
  s: number;
  d: number;
}

// The same computation in float64 JS loops (the wasm kernels off).
function decodeJs(qd: Float32Array, k: View, v: View, out: Float32Array, lse: Float32Array, p: Shape, opts: AttentionKernelOptions): void {
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const kStride = k.strides[1];
  const vStride = v.strides[1];
  const group = p.h / p.hkv;
  const sc = new Float64Array(p.s);
  const acc = new Float64Array(p.d);
  for (let u = 0; u < p.b * p.h * p.t; u++) {
    const i = u % p.t;
    const head = Math.floor(u / p.t) % p.h;
    const n = Math.floor(u / (p.t * p.h)) * p.hkv + Math.floor(head / group);
    const qpos = i + opts.positionOffset;
    const visible = opts.causal ? Math.max(0, Math.min(p.s, qpos + 1)) : p.s;
    const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[head];
    const q0 = u * p.d;
    let m = -Infinity;
    for (let j = 0; j < visible; j++) {
      const k0 = k.offset + n * kStride + j * p.d;
      let dot = 0;
      for (let x = 0; x < p.d; x++) dot += qd[q0 + x] * kd[k0 + x];
      const score = dot * opts.scale - slope * Math.abs(qpos - j);
      sc[j] = score;
      if (score > m || score !== score) m = score;
    }
    acc.fill(0);
    let sum = 0;
    if (m !== -Infinity) {
      for (let j = 0; j < visible; j++) {
        const e = Math.exp(sc[j] - m);
        sum += e;
        const v0 = v.offset + n * vStride + j * p.d;
        for (let x = 0; x < p.d; x++) acc[x] += e * vd[v0 + x];
      }
    }
    const inv = sum > 0 ? 1 / sum : 0;
    for (let x = 0; x < p.d; x++) out[q0 + x] = sum > 0 || sum !== sum ? acc[x] * inv : 0;
    lse[u] = logSumExp(m, sum);
  }
}
