// Attention on the gpu backend, composed on the device: scores by the tiled matmul, masked logsumexp, P·V; and its backward.
import type { AttentionKernelOptions } from '../../../kernels/names.js';
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { forLoop, lit } from '../source.js';
import { GpuStorage, uploadStorage } from '../storage.js';
import { matmul } from './matmul.js';
import { reduce } from './reduce.js';
import { rowDot, rowMap } from './row-stats.js';

// NOTE: unlike the cpu backend's tiled online-softmax kernel, this materializes the (B, H, T, S)
// probabilities in one texture: a fragment shader cannot share a tile between threads, so the
// FlashAttention schedule buys nothing here, while the tiled matmul makes QKᵀ and P·V fast.

/** Shapes of one attention call. */
interface Dims { b: number; h: number; hkv: number; g: number; t: number; s: number; d: number }

function dimsOf(q: View, k: View): Dims {
  const [b, h, t, d] = q.shape as [number, number, number, number];
  const [, hkv, s] = k.shape as [number, number, number, number];
  return { b, h, hkv, g: h / hkv, t, s, d };
}

/** q-like (B, H, T, D) view as (B, Hkv, G, T, D). */
function grouped(x: View, g: number): View {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  const [sb, sh, st, sd] = x.strides as [number, number, number, number];
  return { storage: x.storage, shape: [b, h / g, g, t, d], strides: [sb, g * sh, sh, st, sd], offset: x.offset };
}

/** k/v-like (B, Hkv, S, D) view broadcast over the G query heads of each group: (B, Hkv, G, S, D), or transposed (…, D, S). */
function shared(x: View, g: number, transpose: boolean): View {
  const [b, hkv, s, d] = x.shape as [number, number, number, number];
  const [sb, sh, ss, sd] = x.strides as [number, number, number, number];
  return transpose
    ? { storage: x.storage, shape: [b, hkv, g, d, s], strides: [sb, sh, 0, sd, ss], offset: x.offset }
    : { storage: x.storage, shape: [b, hkv, g, s, d], strides: [sb, sh, 0, ss, sd], offset: x.offset };
}

/** A contiguous (B, H, T, S) storage as (B, Hkv, G, T, S), or transposed (B, Hkv, G, S, T). */
function scoresView(st: Storage, dm: Dims, transpose: boolean): View {
  const { b, hkv, g, t, s } = dm;
  const strides = [hkv * g * t * s, g * t * s, t * s];
  return transpose
    ? { storage: st, shape: [b, hkv, g, s, t], strides: [...strides, 1, s], offset: 0 }
    : { storage: st, shape: [b, hkv, g, t, s], strides: [...strides, s, 1], offset: 0 };
}

/** GLSL-side score of key j for the row's (head i1, query i2), with ALiBi and the causal mask condition. */
function scoreParts(dm: Dims, opts: AttentionKernelOptions): { z: string; keep: string } {
  const qpos = `(i2 + ${opts.positionOffset})`;
  const alibi = opts.alibiSlopes === null ? '' : ` - sl[i1] * Math.abs(${qpos} - j)`; // |distance|: bidirectional keys lie on both sides
  return { z: `sc[base + j] * ${lit(opts.scale)}${alibi}`, keep: opts.causal ? `j <= ${qpos}` : 'true' };
}

/** Masked, scaled logsumexp of each score row: lse (B, H, T). */
function maskedLse(rt: GpuRuntime, scores: GpuStorage, slopes: GpuStorage | null, dm: Dims, opts: AttentionKernelOptions): GpuStorage {
  const { z, keep } = scoreParts(dm, opts);
  const rows = dm.b * dm.h * dm.t;
  const source = `function(sc${slopes === null ? '' : ', sl'}) {
  const o = this.thread.x;
  const i2 = o % ${dm.t};
  const i1 = Math.floor(o / ${dm.t}) % ${dm.h};
  const base = o * ${dm.s};
  let m = -(1.0 / 0.0);
  ${forLoop('j', dm.s, `if (${keep}) { const zz = ${z}; if (zz > m || zz != zz) { m = zz; } }`)}
  let s = 0.0;
  ${forLoop('j', dm.s, `if (${keep}) { s += Math.exp(${z} - m); }`)}
  return (m != m || Math.abs(m) > 3.4e38) ? m : m + Math.log(s);
}`;
  const key = `attn-lse:${JSON.stringify(dm)}:${opts.causal}:${opts.scale}:${opts.positionOffset}:${slopes !== null}`;
  return launch(rt, 'attention', { key, source, output: [rows] }, slopes === null ? [scores] : [scores, slopes], rows);
}

/** Probabilities P (B, H, T, S) = exp(score − lse), 0 where masked. */
function probabilities(rt: GpuRuntime, scores: GpuStorage, lse: GpuStorage, slopes: GpuStorage | null, dm: Dims, opts: AttentionKernelOptions): GpuStorage {
  const { z, keep } = scoreParts(dm, opts);
  const size = dm.b * dm.h * dm.t * dm.s;
  const source = `function(sc, l${slopes === null ? '' : ', sl'}) {
  const o = this.thread.x;
  const j = o % ${dm.s};
  const row = Math.floor(o / ${dm.s});
  const i2 = row % ${dm.t};
  const i1 = Math.floor(row / ${dm.t}) % ${dm.h};
  const base = row * ${dm.s};
  return (${keep}) ? Math.exp(${z} - l[row]) : 0.0;
}`;
  const key = `attn-p:${JSON.stringify(dm)}:${opts.causal}:${opts.scale}:${opts.positionOffset}:${slopes !== null}`;
  return launch(rt, 'attention', { key, source, output: [size] }, slopes === null ? [scores, lse] : [scores, lse, slopes], size);
}

/** Runs fn with the raw scores QKᵀ and the uploaded slopes, freeing both afterwards. */
function withScores<T>(rt: GpuRuntime, q: View, k: View, dm: Dims, opts: AttentionKernelOptions, fn: (sc: GpuStorage, sl: GpuStorage | null) => T): T {
  const scores = matmul(rt, grouped(q, dm.g), shared(k, dm.g, true)) as GpuStorage;
  const slopes = opts.alibiSlopes === null ? null : uploadStorage(rt, opts.alibiSlopes, 'f32');
  try {
    return fn(scores, slopes);
  } finally {
    scores.release();
    slopes?.release();
  }
}

/** Sums a (B, Hkv, G, S, D) storage over G (the query heads sharing a kv head); frees it. */
function sumGroups(rt: GpuRuntime, st: GpuStorage, dm: Dims): Storage {
  if (dm.g === 1) return st;
  const { b, hkv, g, s, d } = dm;
  try {
    return reduce(rt, 'sum', { storage: st, shape: [b, hkv, g, s, d], strides: [hkv * g * s * d, g * s * d, s * d, d, 1], offset: 0 }, 2);
  } finally {
    st.release();
  }
}

/** Attention forward: [o (B, H, T, D), lse (B, H, T)]. */
export function attention(rt: GpuRuntime, q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage] {
  const dm = dimsOf(q, k);
  return withScores(rt, q, k, dm, opts, (sc, sl) => {
    const lse = maskedLse(rt, sc, sl, dm, opts);
    const p = probabilities(rt, sc, lse, sl, dm, opts);
    try {
      return [matmul(rt, scoresView(p, dm, false), shared(v, dm.g, false)), lse];
    } finally {
      p.release();
    }
  });
}

/** Attention backward from the saved lse: [dq, dk, dv]. */
export function attentionGrad(rt: GpuRuntime, q: View, k: View, v: View, o: View, lse: View, dout: View, opts: AttentionKernelOptions): [Storage, Storage, Storage] {
  const dm = dimsOf(q, k);
  return withScores(rt, q, k, dm, opts, (sc, sl) => {
    const p = probabilities(rt, sc, lse.storage as GpuStorage, sl, dm, opts);
    const temps: GpuStorage[] = [p];
    try {
      const dv = sumGroups(rt, matmul(rt, scoresView(p, dm, true), grouped(dout, dm.g)) as GpuStorage, dm);
      const dp = matmul(rt, grouped(dout, dm.g), shared(v, dm.g, true)) as GpuStorage;
      temps.push(dp);
      const di = rowDot(rt, dout, o);
      temps.push(di);
      const shape = [dm.b, dm.h, dm.t, dm.s];
      const strides = [dm.h * dm.t * dm.s, dm.t * dm.s, dm.s, 1];
      const ds = rowMap(rt, `attn-ds:${opts.scale}`, [{ storage: p, shape, strides, offset: 0 }, { storage: dp, shape, strides, offset: 0 }], [di], [],
        `const r = v0 * (v1 - r0) * ${lit(opts.scale)};`);
      temps.push(ds);
      const dq = matmul(rt, scoresView(ds, dm, false), shared(k, dm.g, false));
      const dk = sumGroups(rt, matmul(rt, scoresView(ds, dm, true), grouped(q, dm.g)) as GpuStorage, dm);
      return [dq, dk, dv];
    } finally {
      for (const t of temps) t.release();
    }
  });
}
