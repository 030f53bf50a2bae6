// cpu fused attention: tiled online-softmax forward saving logsumexp, and a backward that recomputes probabilities.
import type { Storage, View } from '../../../backend.js';
import type { AttentionKernelOptions } from '../../../kernels/names.js';
import { cpuStorage, f32 } from '../storage.js';

/** Keys per tile of the online softmax. */
const BLOCK = 32;

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

// Number of keys query row i may see (causal: up to its own position).
function visible(i: number, s: number, opts: AttentionKernelOptions): number {
  if (!opts.causal) return s;
  return Math.max(0, Math.min(s, i + opts.positionOffset + 1));
}

/** `attention` kernel: returns [o (B, H, T, D), lse (B, H, T)]. */
export function attention(q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage] {
  const { b, h, hkv, t, s, d } = dimsOf(q, k);
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const out = new Float32Array(b * h * t * d);
  const lse = new Float32Array(b * h * t);
  const group = h / hkv;
  const scale = opts.scale;
  const scores = new Float64Array(BLOCK);
  const acc = new Float64Array(d);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const kvBase = (bi * hkv + Math.floor(hi / group)) * s * d;
      const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[hi];
      const row0 = (bi * h + hi) * t;
      for (let i = 0; i < t; i++) {
        const qo = (row0 + i) * d;
        const qpos = i + opts.positionOffset;
        const limit = visible(i, s, opts);
        let m = -Infinity;
        let l = 0;
        acc.fill(0);
        for (let j0 = 0; j0 < limit; j0 += BLOCK) {
          const j1 = Math.min(limit, j0 + BLOCK);
          let bm = -Infinity;
          for (let j = j0; j < j1; j++) {
            const ko = kvBase + j * d;
            let dot = 0;
            for (let c = 0; c < d; c++) dot += qd[qo + c] * kd[ko + c];
            let sc = dot * scale;
            if (slope !== 0) sc -= slope * Math.abs(qpos - j);
            scores[j - j0] = sc;
            if (sc > bm || sc !== sc) bm = sc;
          }
          const mNew = bm > m || bm !== bm ? bm : m;
          if (mNew === -Infinity) continue;
          const corr = Math.exp(m - mNew);
          l *= corr;
          for (let c = 0; c < d; c++) acc[c] *= corr;
          for (let j = j0; j < j1; j++) {
            const p = Math.exp(scores[j - j0] - mNew);
            l += p;
            const vo = kvBase + j * d;
            for (let c = 0; c < d; c++) acc[c] += p * vd[vo + c];
          }
          m = mNew;
        }
        const inv = l > 0 ? 1 / l : 0;
        for (let c = 0; c < d; c++) out[qo + c] = acc[c] * inv;
        lse[row0 + i] = l > 0 ? m + Math.log(l) : m === m ? -Infinity : NaN;
      }
    }
  }
  return [cpuStorage('f32', out), cpuStorage('f32', lse)];
}

/** `attention_grad` kernel: returns [dq, dk, dv]. */
export function attentionGrad(q: View, k: View, v: View, o: View, lse: View, dout: View, opts: AttentionKernelOptions): [Storage, Storage, Storage] {
  const { b, h, hkv, t, s, d } = dimsOf(q, k);
  const qd = f32(q.storage);
  const kd = f32(k.storage);
  const vd = f32(v.storage);
  const od = f32(o.storage);
  const ld = f32(lse.storage);
  const gd = f32(dout.storage);
  const dq = new Float32Array(b * h * t * d);
  const dk = new Float64Array(b * hkv * s * d);
  const dv = new Float64Array(b * hkv * s * d);
  const group = h / hkv;
  const scale = opts.scale;
  const dqRow = new Float64Array(d);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const kvBase = (bi * hkv + Math.floor(hi / group)) * s * d;
      const slope = opts.alibiSlopes === null ? 0 : opts.alibiSlopes[hi];
      const row0 = (bi * h + hi) * t;
      for (let i = 0; i < t; i++) {
        const qo = (row0 + i) * d;
        const qpos = i + opts.positionOffset;
        const limit = visible(i, s, opts);
        const l = ld[row0 + i];
        if (l === -Infinity) continue;
        let di = 0;
        for (let c = 0; c < d; c++) di += gd[qo + c] * od[qo + c];
        dqRow.fill(0);
        for (let j = 0; j < limit; j++) {
          const ko = kvBase + j * d;
          let dot = 0;
          let dp = 0;
          for (let c = 0; c < d; c++) {
            dot += qd[qo + c] * kd[ko + c];
            dp += gd[qo + c] * vd[ko + c];
          }
          let sc = dot * scale;
          if (slope !== 0) sc -= slope * Math.abs(qpos - j);
          const p = Math.exp(sc - l);
          const ds = p * (dp - di) * scale;
          for (let c = 0; c < d; c++) {
            dv[ko + c] += p * gd[qo + c];
            dqRow[c] += ds * kd[ko + c];
            dk[ko + c] += ds * qd[qo + c];
          }
        }
        for (let c = 0; c < d; c++) dq[qo + c] = dqRow[c];
      }
    }
  }
  return [cpuStorage('f32', dq), cpuStorage('f32', Float32Array.from(dk)), cpuStorage('f32', Float32Array.from(dv))];
}
