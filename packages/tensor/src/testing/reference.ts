// Float64 reference implementations of every op, written for clarity, that the conformance suite checks backends against.
import { erf } from '../internal/math.js';

/** A float64 array with a shape (row-major). */
export interface Ref {
  shape: number[];
  data: Float64Array;
}

/** Builds a Ref. */
export function ref(shape: readonly number[], data: ArrayLike<number>): Ref {
  return { shape: [...shape], data: Float64Array.from(data) };
}

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Unravels a flat index into a multi-index. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Numpy broadcast shape. */
export function bshape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    return da === 1 ? db : da;
  });
}

/** Element of `x` read at a multi-index of a broadcast shape. */
function at(x: Ref, idx: readonly number[]): number {
  const s = strides(x.shape);
  let o = 0;
  const lead = idx.length - x.shape.length;
  for (let d = 0; d < x.shape.length; d++) o += (x.shape[d] === 1 ? 0 : idx[lead + d]) * s[d];
  return x.data[o];
}

/** Elementwise binary op with broadcasting. */
export function binary(a: Ref, b: Ref, f: (x: number, y: number) => number): Ref {
  const shape = bshape(a.shape, b.shape);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(at(a, idx), at(b, idx));
  }
  return { shape, data: out };
}

/** Elementwise unary op. */
export function unary(a: Ref, f: (x: number) => number): Ref {
  return { shape: [...a.shape], data: a.data.map(f) };
}

/** Reference scalar functions by kernel name. */
export const UNARY_REF: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  abs: Math.abs,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : x !== x ? x : 0),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu_erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  silu: (x) => x / (1 + Math.exp(-x)),
  square: (x) => x * x,
};

/** Reduces along one dim with `f` starting from `init`. */
export function reduce(a: Ref, dim: number, init: number, f: (acc: number, x: number) => number, keepDim = false): Ref {
  const outShape = a.shape.map((d, i) => (i === dim ? 1 : d));
  const out = new Float64Array(size(outShape)).fill(init);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    idx[dim] = 0;
    let o = 0;
    const s = strides(outShape);
    for (let d = 0; d < idx.length; d++) o += idx[d] * s[d];
    out[o] = f(out[o], a.data[i]);
  }
  return { shape: keepDim ? outShape : a.shape.filter((_, i) => i !== dim), data: out };
}

/** Σ along a dim. */
export const sumRef = (a: Ref, dim: number, keepDim = false): Ref => reduce(a, dim, 0, (p, x) => p + x, keepDim);
/** max along a dim (NaN propagates). */
export const maxRef = (a: Ref, dim: number, keepDim = false): Ref =>
  reduce(a, dim, -Infinity, (p, x) => (p !== p || x !== x ? NaN : Math.max(p, x)), keepDim);

/** Permutes dims. */
export function permuteRef(a: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => a.shape[p]);
  const s = strides(a.shape);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let o = 0;
    for (let d = 0; d < perm.length; d++) o += idx[d] * s[perm[d]];
    out[i] = a.data[o];
  }
  return { shape, data: out };
}

/** Swaps the last two dims. */
export function transposeLast(a: Ref): Ref {
  const n = a.shape.length;
  const perm = a.shape.map((_, i) => i);
  perm[n - 2] = n - 1;
  perm[n - 1] = n - 2;
  return permuteRef(a, perm);
}

/** Batched matmul with broadcast batch dims (operands ≥ 2-D). */
export function matmulRef(a: Ref, b: Ref): Ref {
  const m = a.shape[a.shape.length - 2];
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const batch = bshape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const nb = size(batch);
  const out = new Float64Array(nb * m * n);
  const aBatch = { shape: a.shape.slice(0, -2), data: new Float64Array(0) };
  const bBatch = { shape: b.shape.slice(0, -2), data: new Float64Array(0) };
  const offOf = (x: { shape: number[] }, idx: number[]) => {
    const s = strides(x.shape);
    const lead = idx.length - x.shape.length;
    let o = 0;
    for (let d = 0; d < x.shape.length; d++) o += (x.shape[d] === 1 ? 0 : idx[lead + d]) * s[d];
    return o;
  };
  for (let q = 0; q < nb; q++) {
    const idx = unravel(q, batch);
    const ao = offOf(aBatch, idx) * m * k;
    const bo = offOf(bBatch, idx) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p] * b.data[bo + p * n + j];
        out[q * m * n + i * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data: out };
}

function rows(a: Ref, f: (row: Float64Array) => Float64Array): Ref {
  const c = a.shape[a.shape.length - 1];
  const out = new Float64Array(a.data.length);
  for (let o = 0; o < a.data.length; o += c) out.set(f(a.data.subarray(o, o + c)), o);
  return { shape: [...a.shape], data: out };
}

/** softmax over the last dim. */
export function softmaxRef(a: Ref): Ref {
  return rows(a, (r) => {
    const m = r.reduce((p, x) => (p !== p || x !== x ? NaN : Math.max(p, x)), -Infinity);
    const e = r.map((x) => Math.exp(x - m));
    const s = e.reduce((p, x) => p + x, 0);
    return e.map((x) => x / s);
  });
}

/** log-softmax over the last dim. */
export function logSoftmaxRef(a: Ref): Ref {
  return rows(a, (r) => {
    const m = r.reduce((p, x) => (p !== p || x !== x ? NaN : Math.max(p, x)), -Infinity);
    const lse = m + Math.log(r.reduce((p, x) => p + Math.exp(x - m), 0));
    return r.map((x) => x - lse);
  });
}

/** LayerNorm over the last dim. */
export function layerNormRef(x: Ref, w: Ref, b: Ref | null, eps: number): Ref {
  return rows(x, (r) => {
    const c = r.length;
    const mu = r.reduce((p, v) => p + v, 0) / c;
    const v = r.reduce((p, t) => p + (t - mu) ** 2, 0) / c;
    const rs = 1 / Math.sqrt(v + eps);
    return r.map((t, i) => (t - mu) * rs * w.data[i] + (b === null ? 0 : b.data[i]));
  });
}

/** RMSNorm over the last dim. */
export function rmsNormRef(x: Ref, w: Ref, eps: number): Ref {
  return rows(x, (r) => {
    const rs = 1 / Math.sqrt(r.reduce((p, v) => p + v * v, 0) / r.length + eps);
    return r.map((t, i) => t * rs * w.data[i]);
  });
}

/** Per-row softmax cross-entropy (0 for ignored rows). */
export function crossEntropyRef(logits: Ref, targets: readonly number[], ignoreIndex: number): Ref {
  const lsm = logSoftmaxRef(logits);
  const v = logits.shape[1];
  return { shape: [targets.length], data: Float64Array.from(targets, (t, i) => (t === ignoreIndex ? 0 : -lsm.data[i * v + t])) };
}

/** Naive attention: full score matrix, masked softmax, weighted sum. */
export function attentionRef(q: Ref, k: Ref, v: Ref, causal: boolean, scale: number, positionOffset: number, slopes: readonly number[] | null): Ref {
  const [b, h, t, d] = q.shape;
  const [, hkv, s] = k.shape;
  const out = new Float64Array(b * h * t * d);
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const kh = Math.floor(hi / (h / hkv));
      for (let i = 0; i < t; i++) {
        const scores: number[] = [];
        for (let j = 0; j < s; j++) {
          if (causal && j > i + positionOffset) {
            scores.push(-Infinity);
            continue;
          }
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q.data[((bi * h + hi) * t + i) * d + c] * k.data[((bi * hkv + kh) * s + j) * d + c];
          scores.push(dot * scale - (slopes === null ? 0 : slopes[hi] * Math.abs(i + positionOffset - j)));
        }
        const m = Math.max(...scores);
        if (m === -Infinity) continue;
        const e = scores.map((x) => Math.exp(x - m));
        const z = e.reduce((p, x) => p + x, 0);
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < s; j++) acc += (e[j] / z) * v.data[((bi * hkv + kh) * s + j) * d + c];
          out[((bi * h + hi) * t + i) * d + c] = acc;
        }
      }
    }
  }
  return { shape: [b, h, t, d], data: out };
}

/** Rotary embedding (half-split pairs). */
export function ropeRef(x: Ref, positionOffset: number, theta: number): Ref {
  const d = x.shape[x.shape.length - 1];
  const t = x.shape[x.shape.length - 2];
  const half = d / 2;
  const out = new Float64Array(x.data.length);
  for (let o = 0; o < x.data.length; o += d) {
    const pos = ((o / d) % t) + positionOffset;
    for (let i = 0; i < half; i++) {
      const ang = pos * theta ** ((-2 * i) / d);
      const x1 = x.data[o + i];
      const x2 = x.data[o + i + half];
      out[o + i] = x1 * Math.cos(ang) - x2 * Math.sin(ang);
      out[o + i + half] = x1 * Math.sin(ang) + x2 * Math.cos(ang);
    }
  }
  return { shape: [...x.shape], data: out };
}

/** Gathers rows. */
export function embeddingRef(w: Ref, ids: readonly number[], idShape: readonly number[]): Ref {
  const c = w.shape[1];
  const out = new Float64Array(ids.length * c);
  ids.forEach((id, r) => out.set(w.data.subarray(id * c, id * c + c), r * c));
  return { shape: [...idShape, c], data: out };
}

/**
 * Gradients of L = Σ f(inputs) ⊙ seed with respect to each input by central finite differences in float64.
 */
export function finiteDiffGrads(f: (inputs: Ref[]) => Ref, inputs: Ref[], seed: Float64Array, wrt: readonly number[], h = 1e-6): Float64Array[] {
  const loss = (xs: Ref[]) => {
    const y = f(xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * seed[i];
    return s;
  };
  return wrt.map((k) => {
    const x = inputs[k];
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const orig = x.data[i];
      x.data[i] = orig + h;
      const up = loss(inputs);
      x.data[i] = orig - h;
      const down = loss(inputs);
      x.data[i] = orig;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  });
}
