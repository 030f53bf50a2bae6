// cpu kernels for memory (fill/copy/assign/cast), unary, unary-backward and binary ops as strided row loops.
import type { Dtype, Storage, View } from '../../../backend.js';
import { bf16BitsFromF32Bits, f16BitsFromF32Bits, bf16ToF32, f16ToF32 } from '../../../dtype.js';
import { erf, GELU_C, INV_SQRT_2PI } from '../../../internal/math.js';
import { sizeOf } from '../../../internal/shape.js';
import { cpuStorage, typedArrayFor, type CpuStorage } from '../storage.js';
import { rowPlan } from '../strided.js';
import { wasmGelu } from '../wasm.js';
import { biasAddGemm } from './bias-add.js';
import { newF32Uninit } from '../wasm-storage.js';

type Arr = Float32Array | Int32Array | Uint16Array;

function dataOf(v: View): Arr {
  return (v.storage as CpuStorage).data;
}

/** `fill` kernel. */
export function fill(size: number, dtype: Dtype, value: number): Storage {
  const data = typedArrayFor(dtype, size);
  if (value !== 0) {
    if (dtype === 'bf16' || dtype === 'f16') {
      const u = new Uint32Array(new Float32Array([value]).buffer)[0];
      data.fill(dtype === 'bf16' ? bf16BitsFromF32Bits(u) : f16BitsFromF32Bits(u));
    } else data.fill(value);
  }
  return cpuStorage(dtype, data);
}

// Rows at least this long are copied with TypedArray.set (a memcpy); shorter ones element by element.
const SET_MIN = 128;

/** `copy` kernel: contiguous copy of any strided view. */
export function copy(x: View): Storage {
  const src = dataOf(x);
  const size = sizeOf(x.shape);
  const out = x.storage.dtype === 'f32' ? newF32Uninit(size) : typedArrayFor(x.storage.dtype, size);
  const p = rowPlan(x.shape, [x]);
  const n = p.n;
  const s = p.steps[0];
  const offs = p.offsets[0];
  for (let r = 0; r < p.rows; r++) {
    const o = offs[r];
    const base = r * n;
    // NOTE: subarray() allocates an object per row; short rows (a head's D elements) copy faster in a loop.
    if (s === 1 && n >= SET_MIN) out.set(src.subarray(o, o + n), base);
    else if (s === 1) for (let i = 0; i < n; i++) out[base + i] = src[o + i];
    else for (let i = 0; i < n; i++) out[base + i] = src[o + i * s];
  }
  return cpuStorage(x.storage.dtype, out);
}

/** `assign` kernel: dst[...] = src[...] for two strided views of the same shape. */
export function assign(dst: View, src: View): void {
  const d = dataOf(dst);
  const s = dataOf(src);
  const p = rowPlan(dst.shape, [dst, src]);
  const n = p.n;
  const [ds, ss] = p.steps;
  const [doff, soff] = p.offsets;
  for (let r = 0; r < p.rows; r++) {
    const a = doff[r];
    const b = soff[r];
    if (ds === 1 && ss === 1 && n >= SET_MIN) d.set(s.subarray(b, b + n), a);
    else for (let i = 0; i < n; i++) d[a + i * ds] = s[b + i * ss];
  }
}

/** `cast` kernel: contiguous copy converted to dtype (f32 → bf16/f16 rounds to nearest even). */
export function cast(x: View, dtype: Dtype): Storage {
  const from = x.storage.dtype;
  const c = (copy(x) as CpuStorage).data;
  if (from === dtype) return cpuStorage(dtype, c);
  let asF32: Float32Array;
  if (from === 'f32') asF32 = c as Float32Array;
  else if (from === 'bf16') asF32 = bf16ToF32(c as Uint16Array);
  else if (from === 'f16') asF32 = f16ToF32(c as Uint16Array);
  else asF32 = Float32Array.from(c as Int32Array);
  if (dtype === 'f32') return cpuStorage('f32', asF32);
  if (dtype === 'i32') return cpuStorage('i32', Int32Array.from(asF32, (v) => (v !== v ? 0 : Math.trunc(v))));
  const u = new Uint32Array(asF32.buffer, asF32.byteOffset, asF32.length);
  const out = new Uint16Array(u.length);
  if (dtype === 'bf16') for (let i = 0; i < u.length; i++) out[i] = bf16BitsFromF32Bits(u[i]);
  else for (let i = 0; i < u.length; i++) out[i] = f16BitsFromF32Bits(u[i]);
  return cpuStorage(dtype, out);
}

/** Unary op codes (the switch keeps each op a tight loop without per-element calls). */
export const UNARY = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, abs: 5, sigmoid: 6, relu: 7, gelu: 8, gelu_erf: 9, silu: 10 } as const;

function unaryRow(op: number, x: Float32Array, xo: number, xs: number, y: Float32Array, yo: number, n: number): void {
  switch (op) {
    case 0: for (let i = 0; i < n; i++) y[yo + i] = -x[xo + i * xs]; break;
    case 1: for (let i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i * xs]); break;
    case 2: for (let i = 0; i < n; i++) y[yo + i] = Math.log(x[xo + i * xs]); break;
    case 3: for (let i = 0; i < n; i++) y[yo + i] = Math.sqrt(x[xo + i * xs]); break;
    case 4: for (let i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i * xs]); break;
    case 5: for (let i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i * xs]); break;
    case 6: for (let i = 0; i < n; i++) y[yo + i] = 1 / (1 + Math.exp(-x[xo + i * xs])); break;
    case 7: for (let i = 0; i < n; i++) { const v = x[xo + i * xs]; y[yo + i] = v > 0 ? v : v !== v ? v : 0; } break;
    // NOTE: 0.5·v·(1 + tanh u) = v − v/(1 + e^{2u}); Math.exp is ~1.6× faster than Math.tanh in V8.
    case 8: for (let i = 0; i < n; i++) { const v = x[xo + i * xs]; const e = Math.exp(2 * GELU_C * (v + 0.044715 * v * v * v)); y[yo + i] = e === Infinity ? v : v - v / (1 + e); } break;
    case 9: for (let i = 0; i < n; i++) { const v = x[xo + i * xs]; y[yo + i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2)); } break;
    case 10: for (let i = 0; i < n; i++) { const v = x[xo + i * xs]; y[yo + i] = v / (1 + Math.exp(-v)); } break;
  }
}

/** Builds the unary kernel for an op code. */
export function unaryKernel(op: number): (x: View) => Storage {
  return (x: View) => {
    const out = newF32Uninit(sizeOf(x.shape)); // every element is written
    const src = dataOf(x) as Float32Array;
    const p = rowPlan(x.shape, [x]);
    // GELU over one contiguous run goes to the wasm SIMD kernel when it is in use (the JS loop is the reference).
    const wasm = op === UNARY.gelu && p.rows === 1 && p.steps[0] === 1 && out.length > 0 ? wasmGelu() : null;
    if (wasm !== null) {
      const o = p.offsets[0][0];
      wasm.forward({ x: src.subarray(o, o + out.length), y: out });
      return cpuStorage('f32', out);
    }
    for (let r = 0; r < p.rows; r++) unaryRow(op, src, p.offsets[0][r], p.steps[0], out, r * p.n, p.n);
    return cpuStorage('f32', out);
  };
}

/** Unary-backward op codes. */
export const UNARY_GRAD = { relu_grad: 0, gelu_grad: 1, gelu_erf_grad: 2, silu_grad: 3 } as const;

function unaryGradRow(op: number, x: Float32Array, xo: number, xs: number, g: Float32Array, go: number, gs: number, y: Float32Array, yo: number, n: number): void {
  switch (op) {
    case 0: for (let i = 0; i < n; i++) { const v = x[xo + i * xs]; y[yo + i] = v > 0 ? g[go + i * gs] : v !== v ? v : 0; } break;
    case 1:
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs];
        const t = 1 - 2 / (1 + Math.exp(2 * GELU_C * (v + 0.044715 * v * v * v))); // tanh u
        y[yo + i] = g[go + i * gs] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 0.134145 * v * v));
      }
      break;
    case 2:
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs];
        y[yo + i] = g[go + i * gs] * (0.5 * (1 + erf(v * Math.SQRT1_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
      break;
    case 3:
      for (let i = 0; i < n; i++) {
        const v = x[xo + i * xs];
        const s = 1 / (1 + Math.exp(-v));
        y[yo + i] = g[go + i * gs] * s * (1 + v * (1 - s));
      }
      break;
  }
}

/** Builds the unary-backward kernel for an op code. */
export function unaryGradKernel(op: number): (x: View, dy: View) => Storage {
  return (x: View, dy: View) => {
    const out = newF32Uninit(sizeOf(x.shape));
    const p = rowPlan(x.shape, [x, dy]);
    const xd = dataOf(x) as Float32Array;
    const gd = dataOf(dy) as Float32Array;
    const wasm = op === UNARY_GRAD.gelu_grad && p.rows === 1 && p.steps[0] === 1 && p.steps[1] === 1 && out.length > 0 ? wasmGelu() : null;
    if (wasm !== null) {
      const xo = p.offsets[0][0];
      const go = p.offsets[1][0];
      wasm.backward({ x: xd.subarray(xo, xo + out.length), dy: gd.subarray(go, go + out.length), dx: out });
      return cpuStorage('f32', out);
    }
    for (let r = 0; r < p.rows; r++) unaryGradRow(op, xd, p.offsets[0][r], p.steps[0], gd, p.offsets[1][r], p.steps[1], out, r * p.n, p.n);
    return cpuStorage('f32', out);
  };
}

/** Binary op codes. */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, eq: 6, gt: 7 } as const;

function binaryRow(op: number, a: Float32Array, ao: number, as: number, b: Float32Array, bo: number, bs: number, y: Float32Array, yo: number, n: number): void {
  // NOTE: unit-stride and broadcast-scalar fast paths for the four arithmetic ops (residuals, biases, grads).
  if (op <= 3 && as === 1 && (bs === 1 || bs === 0)) {
    if (bs === 1) {
      switch (op) {
        case 0: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] + b[bo + i]; return;
        case 1: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] - b[bo + i]; return;
        case 2: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] * b[bo + i]; return;
        default: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] / b[bo + i]; return;
      }
    }
    const v = b[bo];
    switch (op) {
      case 0: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] + v; return;
      case 1: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] - v; return;
      case 2: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] * v; return;
      default: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i] / v; return;
    }
  }
  switch (op) {
    case 0: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] + b[bo + i * bs]; break;
    case 1: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] - b[bo + i * bs]; break;
    case 2: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] * b[bo + i * bs]; break;
    case 3: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] / b[bo + i * bs]; break;
    case 4: for (let i = 0; i < n; i++) y[yo + i] = Math.pow(a[ao + i * as], b[bo + i * bs]); break;
    case 5:
      for (let i = 0; i < n; i++) {
        const u = a[ao + i * as];
        const v = b[bo + i * bs];
        y[yo + i] = u !== u || v !== v ? NaN : u > v ? u : v;
      }
      break;
    case 6: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0; break;
    case 7: for (let i = 0; i < n; i++) y[yo + i] = a[ao + i * as] > b[bo + i * bs] ? 1 : 0; break;
  }
}

/** Builds the binary kernel for an op code. */
export function binaryKernel(op: number): (a: View, b: View) => Storage {
  return (a: View, b: View) => {
    const out = newF32Uninit(sizeOf(a.shape));
    const p = rowPlan(a.shape, [a, b]);
    const ad = dataOf(a) as Float32Array;
    const bd = dataOf(b) as Float32Array;
    // x + bias (either side): a rank-1 GEMM update on the wasm kernels when they are in use.
    if (op === BINARY.add && (biasAddGemm(p, 0, ad, bd, out) || biasAddGemm(p, 1, bd, ad, out))) return cpuStorage('f32', out);
    for (let r = 0; r < p.rows; r++) binaryRow(op, ad, p.offsets[0][r], p.steps[0], bd, p.offsets[1][r], p.steps[1], out, r * p.n, p.n);
    return cpuStorage('f32', out);
  };
}
