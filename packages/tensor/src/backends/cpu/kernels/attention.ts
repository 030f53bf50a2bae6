// cpu fused attention, FlashAttention-2 style: query × key tiles as batched GEMMs over heads, online softmax, backward from lse.
import type { Storage, View } from '../../../backend.js';
import type { AttentionKernelOptions } from '../../../kernels/names.js';
import { cpuStorage, f32 } from '../storage.js';
import { wasmRowSoftmax } from '../wasm.js';
import { newF32, releaseF32 } from '../wasm-storage.js';
import { attentionDecode, useDecodePath } from './attention-decode.js';
import { getCpuGemm } from './matmul.js';

let decodePath = true;

/** @internal Turns the small-T decode path on or off (benchmarks and tests compare it with the tiled path). */
export function setAttentionDecodePath(on: boolean): void {
  decodePath = on;
}

/** Query rows per tile. */
let BR = 128;
/** Key columns per tile. */
let BC = 128;

/** @internal Sets the tile sizes (tests use small tiles to exercise many tiles on small shapes). */
export function setAttentionTiles(rows: number, cols: number): void {
  BR = rows;
  BC = cols;
}

// Layout: heads h = kvh·group + g. For a fixed g, the (b, kvh) pairs form one GEMM batch with uniform
// strides — q/o/dq step group·T·D, k/v/dk/dv step S·D — so each tile is one batched call across heads.
interface Plan {
  b: number;
  h: number;
  hkv: number;
  group: number;
  t: number;
  s: number;
  d: number;
  nb: number; // batch of one call: b·hkv
}

function planOf(q: View, k: View): Plan {
  const [b, h, t, d] = q.shape;
  const hkv = k.shape[1];
  return { b, h, hkv, group: h / hkv, t, s: k.shape[2], d, nb: b * hkv };
}

// Keys [0, end) can matter to query rows [i0, i1): all of them, or up to the last row's position when causal.
function keyEnd(i1: number, s: number, opts: AttentionKernelOptions): number {
  return opts.causal ? Math.max(0, Math.min(s, i1 - 1 + opts.positionOffset + 1)) : s;
}

// Keys of a tile row that are not masked: all c, or up to the query's position when causal.
function visibleIn(qpos: number, j0: number, c: number, causal: boolean): number {
  return causal ? Math.min(c, Math.max(0, qpos - j0 + 1)) : c;
}

// Scales scores, adds ALiBi and the causal mask in place for every batch entry of a (nb, r, c) tile.
function maskTile(sc: Float32Array, p: Plan, g: number, r: number, c: number, i0: number, j0: number, opts: AttentionKernelOptions): void {
  for (let n = 0; n < p.nb; n++) {
    const head = (n % p.hkv) * p.group + g;
    const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[head];
    const base = n * r * c;
    for (let i = 0; i < r; i++) {
      const qpos = i0 + i + opts.positionOffset;
      const row = base + i * c;
      const visible = visibleIn(qpos, j0, c, opts.causal);
      for (let j = 0; j < visible; j++) {
        let v = sc[row + j] * opts.scale;
        if (slope !== 0) v -= slope * Math.abs(qpos - j0 - j);
        sc[row + j] = v;
      }
      for (let j = visible; j < c; j++) sc[row + j] = -Infinity;
    }
  }
}

/** `attention` kernel: returns [o (B, H, T, D), lse (B, H, T)]. */
export function attention(q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage] {
  if (decodePath && useDecodePath(q.shape[2], k.shape[2])) return attentionDecode(q, k, v, opts); // a few query rows: GEMV-shaped
  const p = planOf(q, k);
  const { group, t, s, d, nb } = p;
  const gemm = getCpuGemm();
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  // k/v may be strided views (a preallocated KV cache): (b, kvh) blocks kStride apart from k.offset.
  const kOff = k.offset;
  const vOff = v.offset;
  const kStride = k.strides[1];
  const vStride = v.strides[1];
  const out = newF32(p.b * p.h * t * d);
  const lse = newF32(p.b * p.h * t);
  const tile = Math.min(BR, t) * Math.min(BC, s);
  const sc = newF32(nb * tile); // scratch, released below
  const m = new Float64Array(nb * BR);
  const l = new Float64Array(nb * BR);
  const qStride = group * t * d;
  for (let g = 0; g < group; g++) {
    for (let i0 = 0; i0 < t; i0 += BR) {
      const r = Math.min(BR, t - i0);
      const qOff = g * t * d + i0 * d;
      m.fill(-Infinity);
      l.fill(0);
      const end = keyEnd(i0 + r, s, opts);
      const simd = wasmRowSoftmax();
      if (simd !== null && end > 0 && end <= BC) {
        // One key tile holds every visible key: P is a plain masked softmax (SIMD exp), and
        // lse = s_max − ln P[argmax] recovers the logsumexp without a second exp pass.
        const c = end;
        gemm({ m: r, n: c, k: d, a: qd, aOffset: qOff, lda: d, transA: false, b: kd, bOffset: kOff, ldb: d, transB: true, c: sc, cOffset: 0, ldc: c, beta: 0, batch: nb, strideA: qStride, strideB: kStride, strideC: r * c });
        maskTile(sc, p, g, r, c, i0, 0, opts);
        for (let n = 0; n < nb; n++) {
          for (let i = 0; i < r; i++) {
            const row = (n * r + i) * c;
            let bm = -Infinity;
            let arg = 0;
            for (let j = 0; j < c; j++) { const x = sc[row + j]; if (x > bm || x !== x) { bm = x; arg = j; } }
            m[n * BR + i] = bm;
            l[n * BR + i] = arg;
          }
        }
        simd({ x: sc, y: sc, rows: nb * r, cols: c });
        for (let n = 0; n < nb; n++) {
          for (let i = 0; i < r; i++) {
            const st = n * BR + i;
            const row = (n * r + i) * c;
            const bm = m[st];
            if (bm === -Infinity) sc.fill(0, row, row + c);
            lse[(n * qStride + qOff) / d + i] = bm === -Infinity ? -Infinity : bm - Math.log(sc[row + l[st]]);
          }
        }
        gemm({ m: r, n: d, k: c, a: sc, aOffset: 0, lda: c, transA: false, b: vd, bOffset: vOff, ldb: d, transB: false, c: out, cOffset: qOff, ldc: d, beta: 0, batch: nb, strideA: r * c, strideB: vStride, strideC: qStride });
        continue;
      }
      for (let j0 = 0; j0 < end; j0 += BC) {
        const c = Math.min(BC, end - j0);
        // S = Q_i·K_jᵀ for every (b, kvh): (nb, r, c)
        gemm({ m: r, n: c, k: d, a: qd, aOffset: qOff, lda: d, transA: false, b: kd, bOffset: kOff + j0 * d, ldb: d, transB: true, c: sc, cOffset: 0, ldc: c, beta: 0, batch: nb, strideA: qStride, strideB: kStride, strideC: r * c });
        maskTile(sc, p, g, r, c, i0, j0, opts);
        // Online softmax: rescale running sums and output rows by exp(m_old − m_new).
        for (let n = 0; n < nb; n++) {
          for (let i = 0; i < r; i++) {
            const row = (n * r + i) * c;
            const st = n * BR + i;
            const vis = visibleIn(i0 + i + opts.positionOffset, j0, c, opts.causal); // masked keys stay 0 in P
            let bm = -Infinity;
            for (let j = 0; j < vis; j++) { const x = sc[row + j]; if (x > bm || x !== x) bm = x; }
            const mOld = m[st];
            const mNew = bm > mOld || bm !== bm ? bm : mOld;
            if (mNew === -Infinity) {
              for (let j = 0; j < c; j++) sc[row + j] = 0;
              continue;
            }
            const corr = Math.exp(mOld - mNew);
            let sum = 0;
            for (let j = 0; j < vis; j++) { const e = Math.exp(sc[row + j] - mNew); sc[row + j] = e; sum += e; }
            for (let j = vis; j < c; j++) sc[row + j] = 0;
            l[st] = l[st] * corr + sum;
            m[st] = mNew;
            if (corr !== 1) { const o = n * qStride + qOff + i * d; for (let x = 0; x < d; x++) out[o + x] *= corr; }
          }
        }
        // O_i += P·V_j
        gemm({ m: r, n: d, k: c, a: sc, aOffset: 0, lda: c, transA: false, b: vd, bOffset: vOff + j0 * d, ldb: d, transB: false, c: out, cOffset: qOff, ldc: d, beta: 1, batch: nb, strideA: r * c, strideB: vStride, strideC: qStride });
      }
      for (let n = 0; n < nb; n++) {
        for (let i = 0; i < r; i++) {
          const st = n * BR + i;
          const o = n * qStride + qOff + i * d;
          const inv = l[st] > 0 ? 1 / l[st] : 0;
          for (let x = 0; x < d; x++) out[o + x] *= inv;
          lse[o / d] = l[st] > 0 ? m[st] + Math.log(l[st]) : m[st] === m[st] ? -Infinity : NaN;
        }
      }
    }
  }
  releaseF32(sc);
  return [cpuStorage('f32', out), cpuStorage('f32', lse)];
}

/** `attention_grad` kernel: returns [dq, dk, dv]. */
export function attentionGrad(q: View, k: View, v: View, o: View, lse: View, dout: View, opts: AttentionKernelOptions): [Storage, Storage, Storage] {
  const p = planOf(q, k);
  const { group, t, s, d, nb } = p;
  const gemm = getCpuGemm();
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const od = f32(o.storage);
  const ld = f32(lse.storage);
  const gd = f32(dout.storage);
  const dq = newF32(p.b * p.h * t * d);
  const dk = newF32(p.b * p.hkv * s * d);
  const dv = newF32(p.b * p.hkv * s * d);
  const tile = Math.min(BR, t) * Math.min(BC, s);
  const pr = newF32(nb * tile); // scratch, released below
  const dp = newF32(nb * tile);
  const di = new Float64Array(nb * BR);
  const qStride = group * t * d;
  for (let g = 0; g < group; g++) {
    for (let i0 = 0; i0 < t; i0 += BR) {
      const r = Math.min(BR, t - i0);
      const qOff = g * t * d + i0 * d;
      for (let n = 0; n < nb; n++) {
        for (let i = 0; i < r; i++) {
          const o = n * qStride + qOff + i * d;
          let acc = 0;
          for (let x = 0; x < d; x++) acc += gd[o + x] * od[o + x];
          di[n * BR + i] = acc; // D_i = rowsum(dO ⊙ O)
        }
      }
      const end = keyEnd(i0 + r, s, opts);
      for (let j0 = 0; j0 < end; j0 += BC) {
        const c = Math.min(BC, end - j0);
        const kOff = j0 * d;
        gemm({ m: r, n: c, k: d, a: qd, aOffset: qOff, lda: d, transA: false, b: kd, bOffset: kOff, ldb: d, transB: true, c: pr, cOffset: 0, ldc: c, beta: 0, batch: nb, strideA: qStride, strideB: s * d, strideC: r * c });
        maskTile(pr, p, g, r, c, i0, j0, opts);
        const simd = wasmRowSoftmax();
        if (simd !== null && j0 === 0 && c === end) {
          // One key tile: P = softmax of the masked scores (SIMD), equal to exp(s − lse).
          simd({ x: pr, y: pr, rows: nb * r, cols: c });
          for (let n = 0; n < nb; n++) {
            for (let i = 0; i < r; i++) if (ld[(n * qStride + qOff) / d + i] === -Infinity) pr.fill(0, (n * r + i) * c, (n * r + i + 1) * c);
          }
        } else {
          for (let n = 0; n < nb; n++) {
            for (let i = 0; i < r; i++) {
              const lrow = ld[(n * qStride + qOff) / d + i];
              const row = (n * r + i) * c;
              const vis = lrow === -Infinity ? 0 : visibleIn(i0 + i + opts.positionOffset, j0, c, opts.causal);
              for (let j = 0; j < vis; j++) pr[row + j] = Math.exp(pr[row + j] - lrow); // P from lse
              for (let j = vis; j < c; j++) pr[row + j] = 0;
            }
          }
        }
        // dV_j += Pᵀ·dO_i ; dP = dO_i·V_jᵀ
        gemm({ m: c, n: d, k: r, a: pr, aOffset: 0, lda: c, transA: true, b: gd, bOffset: qOff, ldb: d, transB: false, c: dv, cOffset: kOff, ldc: d, beta: 1, batch: nb, strideA: r * c, strideB: qStride, strideC: s * d });
        gemm({ m: r, n: c, k: d, a: gd, aOffset: qOff, lda: d, transA: false, b: vd, bOffset: kOff, ldb: d, transB: true, c: dp, cOffset: 0, ldc: c, beta: 0, batch: nb, strideA: qStride, strideB: s * d, strideC: r * c });
        for (let n = 0; n < nb; n++) {
          for (let i = 0; i < r; i++) {
            const row = (n * r + i) * c;
            const dRow = di[n * BR + i];
            const vis = visibleIn(i0 + i + opts.positionOffset, j0, c, opts.causal);
            for (let j = 0; j < vis; j++) dp[row + j] = pr[row + j] * (dp[row + j] - dRow) * opts.scale; // dS
            for (let j = vis; j < c; j++) dp[row + j] = 0;
          }
        }
        // dQ_i += dS·K_j ; dK_j += dSᵀ·Q_i
        gemm({ m: r, n: d, k: c, a: dp, aOffset: 0, lda: c, transA: false, b: kd, bOffset: kOff, ldb: d, transB: false, c: dq, cOffset: qOff, ldc: d, beta: 1, batch: nb, strideA: r * c, strideB: s * d, strideC: qStride });
        gemm({ m: c, n: d, k: r, a: dp, aOffset: 0, lda: c, transA: true, b: qd, bOffset: qOff, ldb: d, transB: false, c: dk, cOffset: kOff, ldc: d, beta: 1, batch: nb, strideA: r * c, strideB: qStride, strideC: s * d });
      }
    }
  }
  releaseF32(pr);
  releaseF32(dp);
  return [cpuStorage('f32', dq), cpuStorage('f32', dk), cpuStorage('f32', dv)];
}
