// Elementwise, reduction, memory and matmul gpu kernels against float64 references (under Xvfb; skipped with a reason without GL).
import { describe, expect, it } from 'vitest';
import type { View } from '../../../backend.js';
import { down, expectClose, gpuTestEnv, randomValues, upView } from '../test-support.js';
import { binary, unary, unaryGrad } from './elementwise.js';
import { reduce } from './reduce.js';
import { matmul } from './matmul.js';
import { assign, cast, copy, fill } from './memory.js';
import { erf, geluTanhGrad } from '../../../internal/math.js';

const env = await gpuTestEnv();
const rt = env.rt!;

const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const geluT = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const REF: Record<string, (x: number) => number> = {
  neg: (x) => -x, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, tanh: Math.tanh, abs: Math.abs, sigmoid: sig,
  relu: (x) => (x < 0 ? 0 : x), gelu: geluT, gelu_erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), silu: (x) => x * sig(x),
};
const GRAD_REF: Record<string, (x: number) => number> = {
  relu_grad: (x) => (x > 0 ? 1 : 0),
  gelu_grad: geluTanhGrad,
  gelu_erf_grad: (x) => 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI),
  silu_grad: (x) => sig(x) * (1 + x * (1 - sig(x))),
};

/** Host copy of a strided view's elements in row-major order. */
function hostRead(data: ArrayLike<number>, v: Omit<View, 'storage'>): number[] {
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const idx = new Array<number>(v.shape.length).fill(0);
  for (let e = 0; e < n; e++) {
    let p = v.offset;
    for (let d = 0; d < idx.length; d++) p += idx[d]! * v.strides[d]!;
    out.push(data[p]!);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < v.shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe.skipIf(env.rt === null)(`gpu elementwise/reduce/matmul kernels${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  const special = [0, -0, 1, -1, 2.5, -3.75, 30, -30, 88, -100, NaN, Infinity, -Infinity, 1e-6];
  const xs = [...special, ...randomValues(50, 1, -6, 6)];

  it('runs on a GL kernel class and reports it', () => {
    expect(['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']).toContain(rt.info.kernelClass);
    expect(rt.info.precision).toBe('single');
  });

  for (const name of Object.keys(REF)) {
    it(`${name} matches the float64 reference, IEEE specials included`, () => {
      const x = upView(rt, xs, [xs.length]);
      const want = xs.map((v) => Math.fround(REF[name]!(Math.fround(v))));
      expectClose(down(rt, unary(rt, name, x)), want, 2e-6, 2e-5, name);
    });
  }

  for (const name of Object.keys(GRAD_REF)) {
    it(`${name} matches the analytic derivative`, () => {
      const finite = xs.filter((v) => Number.isFinite(v) && Math.abs(v) < 20);
      const dy = randomValues(finite.length, 2);
      const got = down(rt, unaryGrad(rt, name, upView(rt, finite, [finite.length]), upView(rt, dy, [finite.length])));
      expectClose(got, finite.map((v, i) => GRAD_REF[name]!(Math.fround(v)) * dy[i]!), 1e-5, 2e-5, name);
    });
  }

  it('binary ops broadcast through stride-0 views and transposed strides', () => {
    const a = randomValues(12, 3, -2, 2); // (3, 4)
    const b = randomValues(4, 4, 0.5, 2); // (4) → (3, 4) with stride 0 rows
    const av: View = { ...upView(rt, a, [3, 4]) };
    const at: View = { storage: av.storage, shape: [4, 3], strides: [1, 4], offset: 0 }; // transpose of a
    const bv: View = { storage: upView(rt, b, [4]).storage, shape: [3, 4], strides: [0, 1], offset: 0 };
    const fns: Record<string, (x: number, y: number) => number> = {
      add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y, pow: (x, y) => x ** y,
      maximum: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y)), eq: (x, y) => +(x === y), gt: (x, y) => +(x > y),
    };
    for (const [name, f] of Object.entries(fns)) {
      const want = hostRead(a, av).map((x, i) => Math.fround(f(x, b[i % 4]!)));
      expectClose(down(rt, binary(rt, name, av, bv)), want, 1e-6, 1e-5, name);
    }
    const bt: View = { storage: bv.storage, shape: [4, 3], strides: [1, 0], offset: 0 };
    expectClose(down(rt, binary(rt, 'add', at, bt)), hostRead(a, at).map((x, i) => Math.fround(x + b[Math.floor(i / 3)]!)), 1e-6, 1e-6, 'add transposed');
  });

  it('pow keeps Math.pow semantics on negative bases, zero and NaN', () => {
    const a = [-2, -2, -2, 0, 0, 0, NaN, 2, -0];
    const b = [2, 3, 0.5, 2, -1, 0, 0, NaN, -1];
    const want = a.map((x, i) => Math.fround(x ** b[i]!));
    expectClose(down(rt, binary(rt, 'pow', upView(rt, a, [9]), upView(rt, b, [9]))), want, 1e-6, 1e-6, 'pow');
  });

  it('sum and max reduce any axis, propagating NaN and Inf', () => {
    const shape = [3, 5, 7];
    const x = Array.from(randomValues(105, 5));
    const xv = upView(rt, x, shape);
    for (let axis = 0; axis < 3; axis++) {
      const outShape = shape.filter((_, d) => d !== axis);
      const want: number[] = [];
      const wantMax: number[] = [];
      const n = outShape[0]! * outShape[1]!;
      for (let o = 0; o < n; o++) {
        const i0 = Math.floor(o / outShape[1]!);
        const i1 = o % outShape[1]!;
        let s = 0;
        let m = -Infinity;
        for (let r = 0; r < shape[axis]!; r++) {
          const idx = axis === 0 ? [r, i0, i1] : axis === 1 ? [i0, r, i1] : [i0, i1, r];
          const v = x[idx[0]! * 35 + idx[1]! * 7 + idx[2]!]!;
          s += v;
          m = Math.max(m, v);
        }
        want.push(s);
        wantMax.push(m);
      }
      expectClose(down(rt, reduce(rt, 'sum', xv, axis)), want, 1e-6, 1e-6, `sum axis ${axis}`);
      expectClose(down(rt, reduce(rt, 'max', xv, axis)), wantMax, 0, 0, `max axis ${axis}`);
    }
    const sp = upView(rt, [1, NaN, 2, 3, Infinity, 4, -Infinity, 1, 2], [3, 3]);
    expectClose(down(rt, reduce(rt, 'sum', sp, 1)), [NaN, Infinity, -Infinity], 0, 0, 'sum specials');
    expectClose(down(rt, reduce(rt, 'max', sp, 1)), [NaN, Infinity, 2], 0, 0, 'max specials');
  });

  it('sum of 100k elements stays within f32 rounding of the float64 sum (Kahan)', () => {
    const x = randomValues(100_000, 6, 0, 1);
    const want = x.reduce((s, v) => s + v, 0);
    const got = down(rt, reduce(rt, 'sum', upView(rt, x, [100_000]), 0))[0]!;
    expect(Math.abs(got - want) / want).toBeLessThan(1e-6);
  });

  it('fill, copy (strided), assign (strided) and cast (bf16 round-trip)', () => {
    expect(down(rt, fill(rt, 5, 'f32', 1.5))).toEqual([1.5, 1.5, 1.5, 1.5, 1.5]);
    const compiled = rt.compiledKernels;
    for (const v of [2, -0.125, 3e-8, 7]) expect(down(rt, fill(rt, 5, 'f32', v))).toEqual(new Array(5).fill(Math.fround(v)));
    expect(rt.compiledKernels).toBe(compiled); // the value is a uniform: no shader per value
    expect(down(rt, fill(rt, 2, 'f32', -Infinity))).toEqual([-Infinity, -Infinity]);
    const base = upView(rt, [0, 1, 2, 3, 4, 5], [2, 3]);
    const t: View = { storage: base.storage, shape: [3, 2], strides: [1, 3], offset: 0 };
    expect(down(rt, copy(rt, t))).toEqual([0, 3, 1, 4, 2, 5]);
    const dst: View = { storage: base.storage, shape: [2], strides: [3], offset: 1 }; // column 1
    assign(rt, dst, upView(rt, [10, 40], [2]));
    expect(down(rt, base.storage)).toEqual([0, 10, 2, 3, 40, 5]);
    const bf = cast(rt, upView(rt, [Math.PI, 1, NaN], [3]), 'bf16');
    expect(bf.dtype).toBe('bf16');
    const back = down(rt, cast(rt, { storage: bf, shape: [3], strides: [1], offset: 0 }, 'f32'));
    expect(back[0]).toBe(3.140625);
    expect(back[1]).toBe(1);
    expect(back[2]).toBeNaN();
  });

  function refMatmul(a: number[], b: number[], bt: number, m: number, k: number, n: number): number[] {
    const out: number[] = [];
    for (let p = 0; p < bt; p++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) s += a[p * m * k + i * k + q]! * b[p * k * n + q * n + j]!;
          out.push(s);
        }
      }
    }
    return out;
  }

  for (const variant of ['tiled', 'strip', 'naive'] as const) {
    it(`${variant} matmul: odd shapes, transposed operands, broadcast batches`, () => {
      for (const [bt, m, k, n] of [[1, 1, 1, 1], [1, 7, 13, 5], [2, 3, 4, 9], [3, 17, 31, 6], [1, 64, 64, 64]] as const) {
        const a = Array.from(randomValues(bt * m * k, m + k));
        const b = Array.from(randomValues(bt * k * n, k + n + 1));
        const want = refMatmul(a, b, bt, m, k, n);
        const av = upView(rt, a, [bt, m, k]);
        const bv = upView(rt, b, [bt, k, n]);
        expectClose(down(rt, matmul(rt, av, bv, variant)), want, 1e-5, 1e-5, `${variant} ${bt}x${m}x${k}x${n}`);
        // b given as the transpose of a (bt, n, k) storage: strides swapped, no copy.
        const bT: number[] = [];
        for (let p = 0; p < bt; p++) for (let j = 0; j < n; j++) for (let q = 0; q < k; q++) bT.push(b[p * k * n + q * n + j]!);
        const bTv: View = { storage: upView(rt, bT, [bt, n, k]).storage, shape: [bt, k, n], strides: [n * k, 1, k], offset: 0 };
        expectClose(down(rt, matmul(rt, av, bTv, variant)), want, 1e-5, 1e-5, `${variant} transB ${bt}x${m}x${k}x${n}`);
      }
      // a broadcast over a batch of 3 (stride 0).
      const a = Array.from(randomValues(4 * 6, 9));
      const b = Array.from(randomValues(3 * 6 * 5, 10));
      const aB: View = { storage: upView(rt, a, [4, 6]).storage, shape: [3, 4, 6], strides: [0, 6, 1], offset: 0 };
      const want = refMatmul([...a, ...a, ...a], b, 3, 4, 6, 5);
      expectClose(down(rt, matmul(rt, aB, upView(rt, b, [3, 6, 5]), variant)), want, 1e-5, 1e-5, `${variant} broadcast batch`);
    });
  }

  it('tiled matmul at N=1024 agrees with float64 to 1e-4 (every 64th row checked)', () => {
    const n = 1024;
    const a = randomValues(n * n, 11);
    const b = randomValues(n * n, 12);
    const got = down(rt, matmul(rt, upView(rt, a, [n, n]), upView(rt, b, [n, n]), 'tiled'));
    for (let i = 0; i < n; i += 64) {
      const want: number[] = [];
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * b[k * n + j]!;
        want.push(s);
      }
      expectClose(got.slice(i * n, (i + 1) * n), want, 1e-4, 1e-4, `matmul 1024 row ${i}`);
    }
  });
});
