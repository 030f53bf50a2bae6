// Conformance cases for memory, dtype casts, unary, binary and reduction kernels, including NaN/Inf propagation.
import { toDtype } from '../ops/dtype.js';
import { add, div, eq, gt, maximum, mul, pow, sub, unaryRaw } from '../ops/elementwise.js';
import * as E from '../ops/elementwise.js';
import { full, ones, zeros } from '../ops/creation.js';
import { max, mean, sum } from '../ops/reduce.js';
import { concat, contiguous, slice, split, transpose } from '../ops/views.js';
import { scope } from '../scope.js';
import type { Tensor } from '../tensor.js';
import type { ConformanceCaseDef } from './conformance.js';
import { checkOp } from './harness.js';
import { binary, maxRef, permuteRef, ref, sumRef, unary, UNARY_REF, type Ref } from './reference.js';

const EXACT = { atol: 0, rtol: 0 };
const F32 = { atol: 1e-6, rtol: 2e-6 };
const GRAD = { atol: 1e-4, rtol: 1e-3 };

function sumDims(x: Ref, dims: number[], keepDim: boolean): Ref {
  let r = x;
  for (const d of [...dims].sort((a, b) => b - a)) r = sumRef(r, d, true);
  return keepDim ? r : { shape: x.shape.filter((_, i) => !dims.includes(i)), data: r.data };
}

const memory: ConformanceCaseDef[] = [
  {
    name: 'fill: zeros, ones and full(−3.5) on (3, 1, 5) and (0,)',
    kernels: ['fill'],
    run(ctx) {
      scope(() => {
        const o = { backend: ctx.backend };
        ctx.check('zeros', zeros([3, 1, 5], o).data(), new Float64Array(15), EXACT);
        ctx.check('ones', ones([3, 1, 5], o).data(), new Float64Array(15).fill(1), EXACT);
        ctx.check('full', full([3, 1, 5], -3.5, o).data(), new Float64Array(15).fill(-3.5), EXACT);
        ctx.check('empty', zeros([0], o).data(), [], EXACT);
      });
    },
  },
  {
    name: 'copy: contiguous() of a transposed (5, 7) and of a sliced (2, 3, 4)[:, 1:3]',
    kernels: ['copy'],
    run(ctx) {
      checkOp(ctx, 'transpose', [{ shape: [5, 7] }], ([x]) => contiguous(transpose(x, 0, 1)), ([x]) => permuteRef(x, [1, 0]), { forward: EXACT, grad: GRAD });
      checkOp(ctx, 'slice', [{ shape: [2, 3, 4] }], ([x]) => contiguous(slice(x, 1, 1, 3)), ([x]) => {
        const out: number[] = [];
        for (let a = 0; a < 2; a++) for (let b = 1; b < 3; b++) for (let c = 0; c < 4; c++) out.push(x.data[(a * 3 + b) * 4 + c]);
        return ref([2, 2, 4], out);
      }, { forward: EXACT, grad: GRAD });
    },
  },
  {
    name: 'assign: concat of (2, 3), (2, 1), (2, 5) along dim 1 (and its slice backward)',
    kernels: ['assign', 'fill'],
    run(ctx) {
      checkOp(ctx, 'concat', [{ shape: [2, 3] }, { shape: [2, 1] }, { shape: [2, 5] }], (xs) => concat(xs, 1), ([a, b, c]) => {
        const out: number[] = [];
        for (let r = 0; r < 2; r++) out.push(...a.data.subarray(r * 3, r * 3 + 3), ...b.data.subarray(r, r + 1), ...c.data.subarray(r * 5, r * 5 + 5));
        return ref([2, 9], out);
      }, { forward: EXACT, grad: GRAD });
    },
  },
  {
    name: 'assign/add: split (2, 10) into 3, 3, 4 along dim 1 plus an overlapping slice (gradients summed in place)',
    kernels: ['assign', 'fill', 'add'],
    run(ctx) {
      // out = [p2·2, p0, p1², x[:, 1:5]]: the slice overlaps p0 and p1, so its gradient adds onto theirs.
      checkOp(ctx, 'split', [{ shape: [2, 10] }], ([x]) => {
        const [p0, p1, p2] = split(x, [3, 3, 4], 1);
        return concat([mul(p2, 2), p0, mul(p1, p1), slice(x, 1, 1, 5)], 1);
      }, ([x]) => {
        const out: number[] = [];
        for (let r = 0; r < 2; r++) {
          const row = x.data.subarray(r * 10, r * 10 + 10);
          out.push(...Array.from(row.subarray(6, 10), (v) => v * 2), ...row.subarray(0, 3), ...Array.from(row.subarray(3, 6), (v) => v * v), ...row.subarray(1, 5));
        }
        return ref([2, 14], out);
      }, { forward: F32, grad: GRAD });
    },
  },
  {
    name: 'cast: bf16 round-to-nearest-even test vectors (training.md §3), NaN and ±Inf kept',
    kernels: ['cast'],
    run(ctx) {
      const input = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, Math.PI, -0.1, 65504, 3.4e38, NaN, -Infinity, -0]);
      const expected = [1, 1.015625, 3.140625, -0.10009765625, 65536, Infinity, NaN, -Infinity, -0];
      scope(() => ctx.check('bf16', toDtype(ctx.tensor([9], input), 'bf16').data(), expected, EXACT));
    },
  },
  {
    name: 'cast: f16 test vectors (65519 → 65504, 65520 → Inf, 2⁻²⁵ → 0, subnormal tie to even)',
    kernels: ['cast'],
    run(ctx) {
      const input = Float32Array.from([65519, 65520, 2 ** -25, 1, 1.5 * 2 ** -24, 2 ** -14, NaN, -Infinity, -1e-9]);
      const expected = [65504, Infinity, 0, 1, 2 ** -23, 2 ** -14, NaN, -Infinity, -0];
      scope(() => {
        const h = toDtype(ctx.tensor([9], input), 'f16');
        ctx.check('f16', h.data(), expected, EXACT);
        ctx.check('f16 → f32', toDtype(h, 'f32').data(), expected, EXACT);
        ctx.check('f32 → i32', toDtype(ctx.tensor([3], Float32Array.from([1.7, -2.2, 0])), 'i32').data(), [1, -2, 0], EXACT);
      });
    },
  },
];

// Inputs avoid the kinks (relu/abs at 0) and the domains (log/sqrt ≤ 0) where finite differences lie.
const unaryRanges: Record<string, [number, number]> = { log: [0.2, 3], sqrt: [0.2, 3], exp: [-2, 2] };
const unaryOps: Record<string, (t: Tensor) => Tensor> = {
  neg: E.neg, exp: E.exp, log: E.log, sqrt: E.sqrt, tanh: E.tanh, abs: E.abs, sigmoid: E.sigmoid, relu: E.relu,
  gelu: (t) => E.gelu(t), gelu_erf: (t) => E.gelu(t, { approximate: 'none' }), silu: E.silu,
};
const gradKernel: Record<string, 'relu_grad' | 'gelu_grad' | 'gelu_erf_grad' | 'silu_grad'> = { relu: 'relu_grad', gelu: 'gelu_grad', gelu_erf: 'gelu_erf_grad', silu: 'silu_grad' };

function awayFromZero(ctx: Parameters<ConformanceCaseDef['run']>[0], n: number): Float32Array {
  const d = ctx.data(n, -3, 3);
  for (let i = 0; i < n; i++) if (Math.abs(d[i]) < 0.05) d[i] = 0.5;
  return d;
}

const unaryCases: ConformanceCaseDef[] = Object.keys(unaryOps).map((name) => ({
  name: `${name}: forward on a transposed (7, 13) view and (1,), gradient by finite differences`,
  kernels: gradKernel[name] === undefined ? [name as 'neg'] : [name as 'neg', gradKernel[name]],
  run(ctx) {
    const f = UNARY_REF[name];
    const range = unaryRanges[name];
    const data = range === undefined ? awayFromZero(ctx, 91) : ctx.data(91, range[0], range[1]);
    const tol = name === 'gelu_erf' ? { atol: 2e-6, rtol: 5e-6 } : F32;
    checkOp(ctx, name, [{ shape: [13, 7], data }], ([x]) => unaryOps[name](transpose(x, 0, 1)), ([x]) => unary(permuteRef(x, [1, 0]), f), { forward: tol, grad: GRAD });
    checkOp(ctx, `${name} (1,)`, [{ shape: [1], data: Float32Array.from([range === undefined ? -0.75 : 1.25]) }], ([x]) => unaryOps[name](x), ([x]) => unary(x, f), { forward: tol, grad: GRAD });
  },
}));

const binaryOps = {
  add: [add, (a: number, b: number) => a + b],
  sub: [sub, (a: number, b: number) => a - b],
  mul: [mul, (a: number, b: number) => a * b],
  div: [div, (a: number, b: number) => a / b],
  pow: [pow, (a: number, b: number) => a ** b],
  maximum: [maximum, (a: number, b: number) => Math.max(a, b)],
} as const;
const corners: [number[], number[]][] = [[[3, 1, 5], [1, 4, 1]], [[2, 3], []], [[1], [6]], [[4, 1], [4, 7]], [[2, 3, 1], [3, 1]]];

const binaryCases: ConformanceCaseDef[] = Object.entries(binaryOps).map(([name, [op, f]]) => ({
  name: `${name}: broadcasting corners ${corners.map(([a, b]) => `(${a.join(', ')})·(${b.join(', ')})`).join(' ')} and a strided operand`,
  kernels: [name as 'add'],
  run(ctx) {
    const rangeA: [number, number] = name === 'pow' ? [0.3, 2] : [-2, 2];
    const rangeB: [number, number] = name === 'div' ? [0.5, 2] : name === 'pow' ? [-1.5, 1.5] : [-2, 2];
    for (const [sa, sb] of corners) {
      checkOp(ctx, `${name} (${sa})·(${sb})`, [{ shape: sa, range: rangeA }, { shape: sb, range: rangeB }], ([a, b]) => (op as (x: Tensor, y: Tensor) => Tensor)(a, b), ([a, b]) => binary(a, b, f), {
        forward: F32,
        grad: GRAD,
      });
    }
    checkOp(ctx, `${name} transposed`, [{ shape: [5, 4], range: rangeA }, { shape: [5], range: rangeB }], ([a, b]) => (op as (x: Tensor, y: Tensor) => Tensor)(transpose(a, 0, 1), b), ([a, b]) =>
      binary(permuteRef(a, [1, 0]), b, f), { forward: F32, grad: GRAD });
  },
}));

const compareCases: ConformanceCaseDef[] = [
  {
    name: 'eq, gt: ties, broadcasting (4, 3)·(3,), NaN compares false',
    kernels: ['eq', 'gt'],
    run(ctx) {
      const a = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, NaN, 2, 1]);
      const b = Float32Array.from([1, 5, 9]);
      scope(() => {
        const ta = ctx.tensor([4, 3], a);
        const tb = ctx.tensor([3], b);
        const ra = ref([4, 3], a);
        const rb = ref([3], b);
        ctx.check('eq', eq(ta, tb).data(), binary(ra, rb, (x, y) => (x === y ? 1 : 0)).data, EXACT);
        ctx.check('gt', gt(ta, tb).data(), binary(ra, rb, (x, y) => (x > y ? 1 : 0)).data, EXACT);
      });
    },
  },
];

const reduceCases: ConformanceCaseDef[] = [
  {
    name: 'sum, mean: each dim, several dims, all, keepDim on (5, 7, 3), and (13,)',
    kernels: ['sum'],
    run(ctx) {
      const tol = { atol: 2e-6, rtol: 2e-6 };
      for (const dims of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
        for (const keep of [false, true]) {
          checkOp(ctx, `sum ${dims} keep=${keep}`, [{ shape: [5, 7, 3] }], ([x]) => sum(x, dims, keep), ([x]) => sumDims(x, dims, keep), { forward: tol, grad: GRAD });
        }
      }
      checkOp(ctx, 'mean (13,)', [{ shape: [13] }], ([x]) => mean(x), ([x]) => ({ shape: [], data: Float64Array.of(x.data.reduce((p, v) => p + v, 0) / 13) }), { forward: tol, grad: GRAD });
      checkOp(ctx, 'mean dim 1', [{ shape: [4, 6, 2] }], ([x]) => mean(x, 1, true), ([x]) => {
        const s = sumRef(x, 1, true);
        return { shape: s.shape, data: s.data.map((v) => v / 6) };
      }, { forward: tol, grad: GRAD });
    },
  },
  {
    name: 'max: each dim and all on (5, 7, 3), gradient to the maximum',
    kernels: ['max'],
    run(ctx) {
      for (const dim of [0, 1, 2]) {
        checkOp(ctx, `max dim ${dim}`, [{ shape: [5, 7, 3] }], ([x]) => max(x, dim), ([x]) => maxRef(x, dim), { forward: EXACT, grad: GRAD });
      }
      checkOp(ctx, 'max all', [{ shape: [11] }], ([x]) => max(x), ([x]) => ({ shape: [], data: Float64Array.of(Math.max(...x.data)) }), { forward: EXACT, grad: GRAD });
    },
  },
  {
    name: 'NaN/Inf propagation: exp, log, relu, add, mul, sum, max',
    kernels: ['exp', 'log', 'relu', 'add', 'mul', 'sum', 'max'],
    run(ctx) {
      scope(() => {
        const t = (d: number[]) => ctx.tensor([d.length], Float32Array.from(d));
        ctx.check('exp', unaryRaw('exp', t([Infinity, -Infinity, NaN, 0])).data(), [Infinity, 0, NaN, 1], EXACT);
        ctx.check('log', unaryRaw('log', t([0, -1, Infinity, 1])).data(), [-Infinity, NaN, Infinity, 0], EXACT);
        ctx.check('relu', unaryRaw('relu', t([NaN, -Infinity, Infinity])).data(), [NaN, 0, Infinity], EXACT);
        ctx.check('add', add(t([1, NaN, Infinity]), t([Infinity, 1, -Infinity])).data(), [Infinity, NaN, NaN], EXACT);
        ctx.check('mul', mul(t([Infinity, 0, -2]), t([0, NaN, Infinity])).data(), [NaN, NaN, -Infinity], EXACT);
        ctx.check('sum', sum(ctx.tensor([2, 3], Float32Array.from([1, NaN, 2, 1, Infinity, 2])), 1).data(), [NaN, Infinity], EXACT);
        ctx.check('max', max(ctx.tensor([2, 3], Float32Array.from([1, NaN, 2, -Infinity, -Infinity, -Infinity])), 1).data(), [NaN, -Infinity], EXACT);
      });
    },
  },
];

/** Cases for memory, casts, unary, binary, comparison and reduction kernels. */
export const basicCases: ConformanceCaseDef[] = [...memory, ...unaryCases, ...binaryCases, ...compareCases, ...reduceCases];
