// geluTanh and geluTanhGrad against float64 formulas (and the gradient against finite differences), both SIMD flavours, 1 vs 2 threads.
import { describe, expect, test } from 'vitest';
import { allocF32, freeF32, geluTanh, geluTanhGrad, GELU_PARALLEL_MIN, initWasmKernels, setThreads } from './index';

const K = Math.sqrt(2 / Math.PI);
const gelu64 = (x: number): number => 0.5 * x * (1 + Math.tanh(K * (x + 0.044715 * x ** 3)));
function geluGrad64(x: number): number {
  const t = Math.tanh(K * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x);
}

/** Values spanning both tails, zero, and the transition region, plus a few specials. */
function inputs(length: number): Float32Array {
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = Math.sin(i * 12.9898) * (i % 3 === 0 ? 12 : 3);
  return x;
}

/** |got − want| ≤ 2e-6·(1 + |want|): f32 rounding of a handful of operations plus the tanh's ~1e-7. */
function expectClose(got: Float32Array, want: (i: number) => number, what: string): void {
  for (let i = 0; i < got.length; i++) {
    const w = want(i);
    if (!(Math.abs(got[i] - w) <= 2e-6 * (1 + Math.abs(w)))) throw new Error(`${what}[${i}] = ${got[i]}, expected ${w}`);
  }
}

describe.each([
  ['relaxed SIMD', true],
  ['plain SIMD', false],
])('geluTanh (%s)', (_name, relaxedSimd) => {
  test('forward and backward match float64 on odd lengths', async () => {
    await initWasmKernels({ threads: 2, relaxedSimd });
    for (const length of [1, 3, 4, 7, 1001]) {
      const x = inputs(length);
      const dy = inputs(length + 5).subarray(5);
      const y = new Float32Array(length);
      const dx = new Float32Array(length);
      geluTanh({ x, y });
      geluTanhGrad({ x, dy, dx });
      expectClose(y, (i) => gelu64(x[i]), `y (length ${length})`);
      expectClose(dx, (i) => dy[i] * geluGrad64(x[i]), `dx (length ${length})`);
    }
  });

  test('gradient agrees with central finite differences of the kernel itself', () => {
    const x = new Float32Array([-3, -1.2, -0.3, 0, 0.4, 1.1, 2.5]);
    const dx = new Float32Array(x.length);
    geluTanhGrad({ x, dy: new Float32Array(x.length).fill(1), dx });
    const h = 1e-2;
    const plus = new Float32Array(x.length);
    const minus = new Float32Array(x.length);
    geluTanh({ x: x.map((v) => v + h), y: plus });
    geluTanh({ x: x.map((v) => v - h), y: minus });
    for (let i = 0; i < x.length; i++) expect(Math.abs(dx[i] - (plus[i] - minus[i]) / (2 * h))).toBeLessThan(2e-4);
  });

  test('specials: ±Infinity tails, NaN, huge values; in place on shared memory', () => {
    const x = allocF32(6);
    x.set([Infinity, -1e20, 1e20, Number.NaN, -20, 20]);
    geluTanh({ x, y: x });
    expect(x[0]).toBe(Infinity);
    expect(Math.abs(x[1])).toBe(0);
    expect(x[2]).toBe(Math.fround(1e20));
    expect(Number.isNaN(x[3])).toBe(true);
    expect(Math.abs(x[4])).toBeLessThan(1e-30);
    expect(x[5]).toBe(20);
    freeF32(x);
  });

  test('1 and 2 threads give identical results', async () => {
    const length = GELU_PARALLEL_MIN + 13;
    const x = inputs(length);
    const one = new Float32Array(length);
    const two = new Float32Array(length);
    await setThreads(1);
    geluTanhGrad({ x, dy: x, dx: one });
    await setThreads(2);
    geluTanhGrad({ x, dy: x, dx: two });
    expect(two).toEqual(one);
  });
});

test('geluTanh rejects short arrays with a typed error', async () => {
  await initWasmKernels({ threads: 1 });
  expect(() => geluTanh({ x: new Float32Array(4), y: new Float32Array(3) })).toThrow(expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE' }));
});
