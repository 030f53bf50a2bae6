// The GEMM bias add gives exactly the JS loop's sums (either operand order, NaN/Inf included) and leaves other forms to the loop.
import { afterAll, describe, expect, it } from 'vitest';
import { add, createRng, randn, useJsKernels, useWasmKernels, type Tensor } from '../../../index.js';
import { BIAS_GEMM_MIN } from './bias-add.js';

function both(f: () => Tensor): [Float32Array, Float32Array] {
  useJsKernels();
  const ref = f().data() as Float32Array;
  useWasmKernels();
  return [ref, f().data() as Float32Array];
}

describe('bias add on the wasm GEMM', () => {
  afterAll(() => useWasmKernels());
  const rng = createRng(4);
  const x = randn([4, 37, 96], { rng });
  const bias = randn([96], { rng });
  const xd = x.data() as Float32Array;
  const special = randn([4, 37, 96], { rng });
  special.write(Float32Array.from(xd, (v, i) => (i % 97 === 0 ? Number.NaN : i % 89 === 0 ? Infinity : i % 83 === 0 ? -Infinity : v)));

  it('x + b and b + x equal the JS loop bit for bit, specials included', () => {
    expect(x.size).toBeGreaterThanOrEqual(BIAS_GEMM_MIN);
    for (const [a, b] of [[x, bias], [bias, x], [special, bias], [bias, special]]) {
      const [ref, got] = both(() => add(a, b));
      expect(got).toEqual(ref);
    }
  });

  it('strided and non-bias broadcasts fall back to the loop with the same results', () => {
    const col = randn([4, 37, 1], { rng });
    const t = x.permute([1, 0, 2]);
    const mid = randn([37, 1], { rng });
    for (const [a, b] of [[x, col], [t, bias], [x, mid], [x.slice(2, 1, 96), bias.slice(0, 1, 96)]]) {
      const [ref, got] = both(() => add(a, b));
      expect(got).toEqual(ref);
    }
  });
});
