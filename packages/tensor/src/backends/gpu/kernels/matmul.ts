// Batched matmul on the gpu backend: a tiled kernel on vec4-packed operands, and the naive kernel it replaces.
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { deleteHandle, wrap, type GpuStorage } from '../storage.js';
import { at, decompose, forLoop, layoutKey, numel } from '../source.js';

/** Multiply-adds per matrix from which the tiled kernel is picked by default. */
export const TILED_MIN_WORK = 64 * 64 * 64;

/** Which matmul kernel to run: `tiled` (4×4 blocks where 4 render targets exist, else 1×4), `strip` (always 1×4), `naive`. */
export type MatmulVariant = 'tiled' | 'strip' | 'naive';

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
 * broadcast batch dims are read through their strides (no copy). `tiled` packs K into vec4
 * texels of A and N into vec4 texels of B; each thread then computes a 4×4 block (with four
 * render targets) or a 1×4 strip, instead of one output from 2·K scalar fetches. `variant` defaults to
 * `tiled` from TILED_MIN_WORK multiply-adds per matrix and `naive` below.
 */
export function matmul(rt: GpuRuntime, a: View, b: View, variant?: MatmulVariant): Storage {
  const d = dimsOf(a, b);
  // NOTE: below ~64³ multiply-adds per matrix the four tiled shaders cost more (compile and launch) than they save.
  const pick = variant ?? (d.m * d.n * d.k >= TILED_MIN_WORK ? 'tiled' : 'naive');
  // NOTE: vec4 (Array(4)) textures exist only with float textures on GL: precision 'single'.
  if (pick === 'naive' || !rt.info.onGl || rt.info.precision !== 'single') return naive(rt, a, b, d);
  return tiled(rt, a, b, d, pick === 'tiled' && rt.info.drawBuffers >= 4 ? 4 : 1);
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

/**
 * Packs A into vec4 texels along K (rows padded to `mp` per batch) and B along N (rows padded to
 * a multiple of 4), runs `multiply`, unpacks; every intermediate texture is freed before returning.
 */
function tiled(rt: GpuRuntime, a: View, b: View, d: Dims, block: 1 | 4): Storage {
  const { m, k, n, bt, batch } = d;
  if (bt * m * n === 0) return naive(rt, a, b, d);
  const rank = batch.length;
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const kp = k4 * 4;
  // NOTE: with 4 render targets one thread computes a 4×4 block (8 fetches per 64 multiply-adds);
  // without them, a 1×4 row strip (5 fetches per 16).
  const m4 = Math.ceil(m / block);
  const mp = m4 * block;

  // A4[(b, i, kk)] = A[b, i, 4kk .. 4kk+3] (zero past K and for padding rows i ≥ M).
  const aRow: View = { ...a, shape: a.shape.slice(0, rank + 1), strides: a.strides.slice(0, rank + 1) };
  const aK = a.strides[rank + 1]!;
  const row = `i${rank}`;
  const packA = `function(a) {
  const o = this.thread.x;
  const kk = o % ${k4};
  const q = Math.floor(o / ${k4});
  const ${row} = q % ${mp};
  const bb = Math.floor(q / ${mp});
  ${decompose(batch, 'bb', 'i')}
  const base = ${at(aRow, 'i')};
  const k0 = kk * 4;
  const v0 = ${row} < ${m} ? a[base + k0 * ${aK}] : 0.0;
  const v1 = ${row} < ${m} && k0 + 1 < ${k} ? a[base + (k0 + 1) * ${aK}] : 0.0;
  const v2 = ${row} < ${m} && k0 + 2 < ${k} ? a[base + (k0 + 2) * ${aK}] : 0.0;
  const v3 = ${row} < ${m} && k0 + 3 < ${k} ? a[base + (k0 + 3) * ${aK}] : 0.0;
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
  const v0 = kr < ${k} ? b[base + j0 * ${bN}] : 0.0;
  const v1 = kr < ${k} && j0 + 1 < ${n} ? b[base + (j0 + 1) * ${bN}] : 0.0;
  const v2 = kr < ${k} && j0 + 2 < ${n} ? b[base + (j0 + 2) * ${bN}] : 0.0;
  const v3 = kr < ${k} && j0 + 3 < ${n} ? b[base + (j0 + 3) * ${bN}] : 0.0;
  return [v0, v1, v2, v3];
}`;
  const dims = `${bt}x${m}x${k}x${n}`;
  const temps: GpuStorage[] = [];
  try {
    const a4 = launch(rt, 'matmul', { key: `matmul-packA:${mp}:${layoutKey(a)}`, source: packA, output: [bt * mp * k4], returnType: 'Array(4)' }, [a], bt * mp * k4 * 4);
    temps.push(a4);
    const b4 = launch(rt, 'matmul', { key: `matmul-packB:${layoutKey(b)}`, source: packB, output: [bt * kp * n4], returnType: 'Array(4)' }, [b], bt * kp * n4 * 4);
    temps.push(b4);
    const c4 = block === 4 ? multiply4x4(rt, a4, b4, d) : [multiply1x4(rt, a4, b4, d)];
    temps.push(...c4);
    const unpack = `function(${c4.map((_, r) => `t${r}`).join(', ')}) {
  const o = this.thread.x;
  const j = o % ${n};
  const q = Math.floor(o / ${n});
  const i = q % ${m};
  const bb = Math.floor(q / ${m});
  const idx = (bb * ${m4} + Math.floor(i / ${block})) * ${n4} + Math.floor(j / 4);
  const c = j % 4;
  ${c4.map((_, r) => `const v${r} = t${r}[idx];
  const e${r} = c == 0 ? v${r}[0] : (c == 1 ? v${r}[1] : (c == 2 ? v${r}[2] : v${r}[3]));`).join('\n  ')}
  ${block === 4 ? 'const r = i % 4;\n  return r == 0 ? e0 : (r == 1 ? e1 : (r == 2 ? e2 : e3));' : 'return e0;'}
}`;
    return launch(rt, 'matmul', { key: `matmul-unpack${block}:${dims}`, source: unpack, output: [bt * m * n] }, c4, bt * m * n);
  } finally {
    for (const t of temps) deleteHandle(t.handle);
  }
}

/** C4[(bm, j4)] = Σ_kk A4[bm, kk] ⊗ B4[b, 4kk .. 4kk+3, j4]: one vec4 (four columns of one row) per thread. */
function multiply1x4(rt: GpuRuntime, a4: GpuStorage, b4: GpuStorage, d: Dims): GpuStorage {
  const { m, k, n, bt } = d;
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const source = `function(a4, b4) {
  const o = this.thread.x;
  const j4 = o % ${n4};
  const bm = Math.floor(o / ${n4});
  const bb = Math.floor(bm / ${m});
  const arow = bm * ${k4};
  const brow = bb * ${k4 * 4 * n4} + j4;
  let c0 = 0.0;
  let c1 = 0.0;
  let c2 = 0.0;
  let c3 = 0.0;
  ${forLoop('kk', k4, `const av = a4[arow + kk];
    const r = brow + kk * ${4 * n4};
    const b0 = b4[r];
    const b1 = b4[r + ${n4}];
    const b2 = b4[r + ${2 * n4}];
    const b3 = b4[r + ${3 * n4}];
    c0 += av[0] * b0[0] + av[1] * b1[0] + av[2] * b2[0] + av[3] * b3[0];
    c1 += av[0] * b0[1] + av[1] * b1[1] + av[2] * b2[1] + av[3] * b3[1];
    c2 += av[0] * b0[2] + av[1] * b1[2] + av[2] * b2[2] + av[3] * b3[2];
    c3 += av[0] * b0[3] + av[1] * b1[3] + av[2] * b2[3] + av[3] * b3[3];`)}
  return [c0, c1, c2, c3];
}`;
  return launch(rt, 'matmul', { key: `matmul-1x4:${bt}x${m}x${k}x${n}`, source, output: [bt * m * n4], returnType: 'Array(4)' }, [a4, b4], bt * m * n4 * 4);
}

/**
 * A 4×4 block per thread: rows 4ib .. 4ib+3 by columns 4j4 .. 4j4+3; row 0 is the kernel's output,
 * rows 1–3 go to three more render targets. Returns the four (bt·M4·N4) vec4 textures.
 */
function multiply4x4(rt: GpuRuntime, a4: GpuStorage, b4: GpuStorage, d: Dims): GpuStorage[] {
  const { m, k, n, bt } = d;
  const k4 = Math.ceil(k / 4);
  const n4 = Math.ceil(n / 4);
  const m4 = Math.ceil(m / 4);
  const acc = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => `c${r}${c}`));
  const dots = [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => `c${r}${c} += x${r}[0] * b0[${c}] + x${r}[1] * b1[${c}] + x${r}[2] * b2[${c}] + x${r}[3] * b3[${c}];`));
  const source = `function(a4, b4) {
  const o = this.thread.x;
  const j4 = o % ${n4};
  const q = Math.floor(o / ${n4});
  const ib = q % ${m4};
  const bb = Math.floor(q / ${m4});
  const arow = (bb * ${m4 * 4} + ib * 4) * ${k4};
  const brow = bb * ${k4 * 4 * n4} + j4;
  ${acc.map((c) => `let ${c} = 0.0;`).join('\n  ')}
  ${forLoop('kk', k4, `const x0 = a4[arow + kk];
    const x1 = a4[arow + ${k4} + kk];
    const x2 = a4[arow + ${2 * k4} + kk];
    const x3 = a4[arow + ${3 * k4} + kk];
    const r = brow + kk * ${4 * n4};
    const b0 = b4[r];
    const b1 = b4[r + ${n4}];
    const b2 = b4[r + ${2 * n4}];
    const b3 = b4[r + ${3 * n4}];
    ${dots.join('\n    ')}`)}
  matmulRow1([c10, c11, c12, c13]);
  matmulRow2([c20, c21, c22, c23]);
  matmulRow3([c30, c31, c32, c33]);
  return [c00, c01, c02, c03];
}`;
  const size = bt * m4 * n4;
  const textures = rt.runMap({
    key: `matmul-4x4:${bt}x${m}x${k}x${n}`, source, output: [size], returnType: 'Array(4)', subKernels: ['matmulRow1', 'matmulRow2', 'matmulRow3'],
  }, [a4.handle, b4.handle]);
  return textures.map((t) => wrap(t, size * 4));
}
