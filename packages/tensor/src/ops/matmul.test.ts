// matmul gradients for a 2-D weight shared across a batch (the one-GEMM paths) against float64 loops.
import { describe, expect, it } from 'vitest';
import { createRng, matmul, mul, randn, scope, sum, useJsKernels, useWasmKernels, type Tensor } from '../index.js';

// out[b, t, n] = Σ_k x[b, t, k]·w[n, k] (transB) or w[k, n]; loss = Σ out ⊙ r.
function reference(x: Float32Array, w: Float32Array, r: Float32Array, rows: number, k: number, n: number, transB: boolean): { dx: Float64Array; dw: Float64Array } {
  const dx = new Float64Array(rows * k);
  const dw = new Float64Array(n * k);
  const wi = (j: number, i: number): number => (transB ? j * k + i : i * n + j);
  for (let row = 0; row < rows; row++) {
    for (let j = 0; j < n; j++) {
      const g = r[row * n + j];
      for (let i = 0; i < k; i++) {
        dx[row * k + i] += g * w[wi(j, i)];
        dw[wi(j, i)] += g * x[row * k + i];
      }
    }
  }
  return { dx, dw };
}

function check(got: Float32Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
}

describe('matmul with a weight shared across the batch', () => {
  for (const kernels of ['js', 'wasm'] as const) {
    for (const transB of [true, false]) {
      for (const [B, T, K, N] of [[2, 3, 4, 5], [3, 7, 13, 1], [4, 33, 64, 96]]) {
        it(`${kernels} kernels, x (${B}, ${T}, ${K}) · ${transB ? `w (${N}, ${K})ᵀ` : `w (${K}, ${N})`}: dx and dw`, () => {
          if (kernels === 'js') useJsKernels();
          else useWasmKernels();
          const rng = createRng(B * 100 + K);
          const x = randn([B, T, K], { rng, requiresGrad: true });
          const w = randn(transB ? [N, K] : [K, N], { rng, requiresGrad: true });
          const r = randn([B, T, N], { rng });
          scope(() => sum(mul(matmul(x, w, { transB }), r)).backward());
          const want = reference(x.data() as Float32Array, w.data() as Float32Array, r.data() as Float32Array, B * T, K, N, transB);
          check(x.grad!.data() as Float32Array, want.dx);
          check((w.grad as Tensor).data() as Float32Array, want.dw);
          expect(w.grad!.shape).toEqual(w.shape);
          useWasmKernels();
        });
      }
    }
  }
});
