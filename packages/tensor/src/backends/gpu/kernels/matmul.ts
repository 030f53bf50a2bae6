// Batched matmul on the gpu backend: a tiled kernel on vec4-packed operands, and the naive kernel it replaces.
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { deleteHandle, type GpuStorage } from '../storage.js';
import { at, decompose, layoutKey, numel } from '../source.js';

/** Multiply-adds per matrix from which the tiled kernel is picked by default. */
export const TILED_MIN_WORK = 64 * 64 * 64;

/** Which matmul kernel to run. */
export type MatmulVariant = 'tiled' | 'naive';

/** Shapes of one batched product a (…batch, M, K) · b (…batch, K, N). */
interface Dims {
  batch: readonly number[];
  bt: number;
  m: number;
  k: number;
  n: number;
}

function dimsOf(a: View, b: View): Dims {
  const r = a.shape.length;
  const batch = a.shape.slice(0, r - 2);
  return { batch, bt: numel(batch), m: a.shape[r - 2]!, k: a.shape[r - 1]!, n: b.shape[b.shape.length - 1]! };
}

/**
 * a (…batch, M, K) · b (…batch, K, N) → contiguous (…batch, M, N). Transposed operands and
 * broadcast batch dims are read through their strides (no copy). `tiled` (default on GL) packs
 * K into vec4 texels of A and N into vec4 texels of B, so each thread computes four outputs with
 * five texture fetches per four k-steps instead of eight fetches per k-step. `variant` defaults to
 * `tiled` from TILED_MIN_WORK multiply-adds per matrix and `naive` below.
 */
export function matmul(rt: GpuRuntime, a: View, b: View, variant?: MatmulVariant): Storage {
  const d = dimsOf(a, b);
  // NOTE: below ~64³ multiply-adds per matrix the four tiled shaders cost more (compile and launch) than they save.
  const pick = variant ?? (d.m * d.n * d.k >= TILED_MIN_WORK ? 'tiled' : 'naive');
  // NOTE: vec4 (Array(4)) textures exist only with float textures on GL: precision 'single'.
  if (pick === 'naive' || !rt.info.onGl || rt.info.precision !== 'single') return naive(rt, a, b, d);
  return tiled(rt, a, b, d);
}

/** One thread per output, a K-long dot product of strided reads. */
function naive(rt: GpuRuntime, a: View, b: View, d: Dims): Storage {
  const { m, k, n, bt } = d;
  const size = bt * m * n;
  const rank = d.batch.length;
  // index variables: i0..i{rank-1} batch, i{rank} row, i{rank+1} col; the k index is `kk`.
  const aIdx = `${at({ ...a, shape: a.shape.slice(0, rank + 1), strides: a.strides.slice(0, rank + 1) }, 'i')} + kk * ${a.strides[rank + 1]}`;
  const bBatch: View = { ...b, shape: [...b.shape.slice(0, rank), 1, b.shape[rank + 1]!], strides: [...b.strides.slice(0, rank), 0, b.strides[rank + 1]!] };
  const bIdx = `${at(bBatch, 'i')} + kk * ${b.strides[rank]}`;
  const source = `function(a, b) {
  const o = this.thread.x;
  ${decompose([...d.batch, m, n], 'o', 'i')}
  let s = 0.0;
  for (let kk = 0; kk < ${k}; kk++) {
    s += a[${aIdx}] * b[${bIdx}];
  }
  return s;
}`;
  return launch(rt, 'matmul', { key: `matmul-naive:${layoutKey(a)};${layoutKey(b)}`, source, output: [size] }, [a, b], size);
}

/** Packs, multiplies four columns per thread, unpacks; the packed intermediates are freed before returning. */
function tiled(rt: GpuRuntime, a: View, b: View, d: Dims): Storage {
  const { m, k, n, bt, batch } = d;
  if (bt * m * n === 0) return naive(rt, a, b, d);
  const rank = batch.length;
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const kp = k4 * 4;

  // A4[(bm, kk)] = A[b, i, 4kk .. 4kk+3] (zero past K).
  const aRow: View = { ...a, shape: a.shape.slice(0, rank + 1), strides: a.strides.slice(0, rank + 1) };
  const aK = a.strides[rank + 1]!;
  const packA = `function(a) {
  const o = this.thread.x;
  const kk = o % ${k4};
  const bm = Math.floor(o / ${k4});
  ${decompose([...batch, m], 'bm', 'i')}
  const base = ${at(aRow, 'i')};
  const k0 = kk * 4;
  const v0 = a[base + k0 * ${aK}];
  const v1 = k0 + 1 < ${k} ? a[base + (k0 + 1) * ${aK}] : 0.0;
  const v2 = k0 + 2 < ${k} ? a[base + (k0 + 2) * ${aK}] : 0.0;
  const v3 = k0 + 3 < ${k} ? a[base + (k0 + 3) * ${aK}] : 0.0;
  return [v0, v1, v2, v3];
}`;
  // B4[(b, kr, j4)] = B[b, kr, 4j4 .. 4j4+3] (zero past K and past N).
  const bBatch: View = { ...b, shape: b.shape.slice(0, rank), strides: b.strides.slice(0, rank) };
  const bK = b.strides[rank]!;
  const bN = b.strides[rank + 1]!;
  const packB = `function(b) {
  const o = this.thread.x;
  const j4 = o % ${n4};
  const q = Math.floor(o / ${n4});
  const kr = q % ${kp};
  const bb = Math.floor(q / ${kp});
  ${decompose(batch, 'bb', 'i')}
  const base = ${at(bBatch, 'i')} + kr * ${bK};
  const j0 = j4 * 4;
  const inK = kr < ${k};
  const v0 = inK ? b[base + j0 * ${bN}] : 0.0;
  const v1 = inK && j0 + 1 < ${n} ? b[base + (j0 + 1) * ${bN}] : 0.0;
  const v2 = inK && j0 + 2 < ${n} ? b[base + (j0 + 2) * ${bN}] : 0.0;
  const v3 = inK && j0 + 3 < ${n} ? b[base + (j0 + 3) * ${bN}] : 0.0;
  return [v0, v1, v2, v3];
}`;
  // C4[(bm, j4)] = Σ_kk A4[bm, kk] ⊗ B4[b, 4kk .. 4kk+3, j4]
  const mm = `function(a4, b4) {
  const o = this.thread.x;
  const j4 = o % ${n4};
  const bm = Math.floor(o / ${n4});
  const bb = Math.floor(bm / ${m});
  const arow = bm * ${k4};
  const brow = bb * ${kp * n4} + j4;
  let c0 = 0.0;
  let c1 = 0.0;
  let c2 = 0.0;
  let c3 = 0.0;
  for (let kk = 0; kk < ${k4}; kk++) {
    const av = a4[arow + kk];
    const r = brow + kk * ${4 * n4};
    const b0 = b4[r];
    const b1 = b4[r + ${n4}];
    const b2 = b4[r + ${2 * n4}];
    const b3 = b4[r + ${3 * n4}];
    c0 += av[0] * b0[0] + av[1] * b1[0] + av[2] * b2[0] + av[3] * b3[0];
    c1 += av[0] * b0[1] + av[1] * b1[1] + av[2] * b2[1] + av[3] * b3[1];
    c2 += av[0] * b0[2] + av[1] * b1[2] + av[2] * b2[2] + av[3] * b3[2];
    c3 += av[0] * b0[3] + av[1] * b1[3] + av[2] * b2[3] + av[3] * b3[3];
  }
  return [c0, c1, c2, c3];
}`;
  const unpack = `function(c4) {
  const o = this.thread.x;
  const j = o % ${n};
  const bm = Math.floor(o / ${n});
  const v = c4[bm * ${n4} + Math.floor(j / 4)];
  const c = j % 4;
  return c == 0 ? v[0] : (c == 1 ? v[1] : (c == 2 ? v[2] : v[3]));
}`;
  const dims = `${bt}x${m}x${k}x${n}`;
  const a4 = launch(rt, 'matmul', { key: `matmul-packA:${layoutKey(a)}`, source: packA, output: [bt * m * k4], returnType: 'Array(4)' }, [a], bt * m * k4 * 4);
  let b4: GpuStorage | null = null;
  let c4: GpuStorage | null = null;
  try {
    b4 = launch(rt, 'matmul', { key: `matmul-packB:${layoutKey(b)}`, source: packB, output: [bt * kp * n4], returnType: 'Array(4)' }, [b], bt * kp * n4 * 4);
    c4 = launch(rt, 'matmul', { key: `matmul-tile:${dims}`, source: mm, output: [bt * m * n4], returnType: 'Array(4)' }, [a4, b4], bt * m * n4 * 4);
    return launch(rt, 'matmul', { key: `matmul-unpack:${dims}`, source: unpack, output: [bt * m * n] }, [c4], bt * m * n);
  } finally {
    deleteHandle(a4.handle);
    if (b4 !== null) deleteHandle(b4.handle);
    if (c4 !== null) deleteHandle(c4.handle);
  }
}
