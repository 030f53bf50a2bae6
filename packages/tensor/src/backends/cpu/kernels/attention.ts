// cpu fused attention, FlashAttention-2 style: query × key tiles on the GEMM, online softmax, backward recomputing P from lse.
import type { Storage, View } from '../../../backend.js';
import type { AttentionKernelOptions } from '../../../kernels/names.js';
import { cpuStorage, f32 } from '../storage.js';
import { getCpuGemm } from './matmul.js';

/** Query rows per tile. */
let BR = 128;
/** Key columns per tile. */
let BC = 128;

/** @internal Sets the tile sizes (tests use small tiles to exercise many tiles on small shapes). */
export function setAttentionTiles(rows: number, cols: number): void {
  BR = rows;
  BC = cols;
}

interface Dims {
  b: number;
  h: number;
  hkv: number;
  t: number;
  s: number;
  d: number;
}

function dimsOf(q: View, k: View): Dims {
  const [b, h, t, d] = q.shape;
  return { b, h, hkv: k.shape[1], t, s: k.shape[2], d };
}

// Scales scores, adds ALiBi and the causal mask in place: tile rows i0.., key columns j0..j0+c.
function maskTile(sc: Float32Array, r: number, c: number, i0: number, j0: number, slope: number, opts: AttentionKernelOptions): void {
  const scale = opts.scale;
  for (let i = 0; i < r; i++) {
    const qpos = i0 + i + opts.positionOffset;
    const row = i * c;
    for (let j = 0; j < c; j++) {
      const kpos = j0 + j;
      let v = sc[row + j] * scale;
      if (slope !== 0) v -= slope * Math.abs(qpos - kpos);
      sc[row + j] = opts.causal && kpos > qpos ? -Infinity : v;
    }
  }
}

// Keys [0, end) can matter to query rows [i0, i1): all of them, or up to the last row's position when causal.
function keyEnd(i1: number, s: number, opts: AttentionKernelOptions): number {
  return opts.causal ? Math.max(0, Math.min(s, i1 - 1 + opts.positionOffset + 1)) : s;
}

/** `attention` kernel: returns [o (B, H, T, D), lse (B, H, T)]. */
export function attention(q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage] {
  const { b, h, hkv, t, s, d } = dimsOf(q, k);
  const gemm = getCpuGemm();
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const out = new Float32Array(b * h * t * d);
  const lse = new Float32Array(b * h * t);
  const group = h / hkv;
  const sc = new Float32Array(BR * BC);
  const m = new Float64Array(BR);
  const l = new Float64Array(BR);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const kvBase = (bi * hkv + Math.floor(hi / group)) * s * d;
      const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[hi];
      const row0 = (bi * h + hi) * t;
      for (let i0 = 0; i0 < t; i0 += BR) {
        const r = Math.min(BR, t - i0);
        const qo = (row0 + i0) * d;
        m.fill(-Infinity);
        l.fill(0);
        const end = keyEnd(i0 + r, s, opts);
        for (let j0 = 0; j0 < end; j0 += BC) {
          const c = Math.min(BC, end - j0);
          // S = Q_i·K_jᵀ (r × c)
          gemm({ m: r, n: c, k: d, a: qd, aOffset: qo, lda: d, transA: false, b: kd, bOffset: kvBase + j0 * d, ldb: d, transB: true, c: sc, cOffset: 0, ldc: c, beta: 0 });
          maskTile(sc, r, c, i0, j0, slope, opts);
          // Online softmax: rescale the running sum and output rows by exp(m_old − m_new).
          for (let i = 0; i < r; i++) {
            const row = i * c;
            let bm = -Infinity;
            for (let j = 0; j < c; j++) { const x = sc[row + j]; if (x > bm || x !== x) bm = x; }
            const mOld = m[i];
            const mNew = bm > mOld || bm !== bm ? bm : mOld;
            if (mNew === -Infinity) {
              for (let j = 0; j < c; j++) sc[row + j] = 0;
              continue;
            }
            const corr = Math.exp(mOld - mNew);
            let sum = 0;
            for (let j = 0; j < c; j++) { const p = Math.exp(sc[row + j] - mNew); sc[row + j] = p; sum += p; }
            l[i] = l[i] * corr + sum;
            m[i] = mNew;
            if (corr !== 1) { const o = qo + i * d; for (let x = 0; x < d; x++) out[o + x] *= corr; }
          }
          // O_i += P·V_j
          gemm({ m: r, n: d, k: c, a: sc, aOffset: 0, lda: c, transA: false, b: vd, bOffset: kvBase + j0 * d, ldb: d, transB: false, c: out, cOffset: qo, ldc: d, beta: 1 });
        }
        for (let i = 0; i < r; i++) {
          const o = qo + i * d;
          const inv = l[i] > 0 ? 1 / l[i] : 0;
          for (let x = 0; x < d; x++) out[o + x] *= inv;
          lse[row0 + i0 + i] = l[i] > 0 ? m[i] + Math.log(l[i]) : m[i] === m[i] ? -Infinity : NaN;
        }
      }
    }
  }
  return [cpuStorage('f32', out), cpuStorage('f32', lse)];
}

/** `attention_grad` kernel: returns [dq, dk, dv]. */
export function attentionGrad(q: View, k: View, v: View, o: View, lse: View, dout: View, opts: AttentionKernelOptions): [Storage, Storage, Storage] {
  const { b, h, hkv, t, s, d } = dimsOf(q, k);
  const gemm = getCpuGemm();
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const od = f32(o.storage);
  const ld = f32(lse.storage);
  const gd = f32(dout.storage);
  const dq = new Float32Array(b * h * t * d);
  const dk = new Float32Array(b * hkv * s * d);
  const dv = new Float32Array(b * hkv * s * d);
  const group = h / hkv;
  const p = new Float32Array(BR * BC);
  const dp = new Float32Array(BR * BC);
  const di = new Float64Array(BR);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const kvBase = (bi * hkv + Math.floor(hi / group)) * s * d;
      const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[hi];
      const row0 = (bi * h + hi) * t;
      for (let i0 = 0; i0 < t; i0 += BR) {
        const r = Math.min(BR, t - i0);
        const qo = (row0 + i0) * d;
        for (let i = 0; i < r; i++) {
          let acc = 0;
          for (let x = 0; x < d; x++) acc += gd[qo + i * d + x] * od[qo + i * d + x];
          di[i] = acc; // D_i = rowsum(dO ⊙ O)
        }
        const end = keyEnd(i0 + r, s, opts);
        for (let j0 = 0; j0 < end; j0 += BC) {
          const c = Math.min(BC, end - j0);
          const ko = kvBase + j0 * d;
          gemm({ m: r, n: c, k: d, a: qd, aOffset: qo, lda: d, transA: false, b: kd, bOffset: ko, ldb: d, transB: true, c: p, cOffset: 0, ldc: c, beta: 0 });
          maskTile(p, r, c, i0, j0, slope, opts);
          for (let i = 0; i < r; i++) {
            const lrow = ld[row0 + i0 + i];
            const row = i * c;
            for (let j = 0; j < c; j++) p[row + j] = lrow === -Infinity ? 0 : Math.exp(p[row + j] - lrow); // P recomputed from lse
          }
          // dV_j += Pᵀ·dO_i ; dP = dO_i·V_jᵀ
          gemm({ m: c, n: d, k: r, a: p, aOffset: 0, lda: c, transA: true, b: gd, bOffset: qo, ldb: d, transB: false, c: dv, cOffset: ko, ldc: d, beta: 1 });
          gemm({ m: r, n: c, k: d, a: gd, aOffset: qo, lda: d, transA: false, b: vd, bOffset: ko, ldb: d, transB: true, c: dp, cOffset: 0, ldc: c, beta: 0 });
          for (let i = 0; i < r; i++) {
            const row = i * c;
            for (let j = 0; j < c; j++) dp[row + j] = p[row + j] * (dp[row + j] - di[i]) * opts.scale; // dS
          }
          // dQ_i += dS·K_j ; dK_j += dSᵀ·Q_i
          gemm({ m: r, n: d, k: c, a: dp, aOffset: 0, lda: c, transA: false, b: kd, bOffset: ko, ldb: d, transB: false, c: dq, cOffset: qo, ldc: d, beta: 1 });
          gemm({ m: c, n: d, k: r, a: dp, aOffset: 0, lda: c, transA: true, b: qd, bOffset: qo, ldb: d, transB: false, c: dk, cOffset: ko, ldc: d, beta: 1 });
        }
      }
    }
  }
  return [cpuStorage('f32', dq), cpuStorage('f32', dk), cpuStorage('f32', dv)];
}
