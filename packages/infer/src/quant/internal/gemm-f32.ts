// f32 GEMM on @lmkit/tensor's cpu matmul (WASM SIMD, multi-threaded) for plain arrays: the heavy steps of GPTQ run through it.
import { matmul, noGrad, scope, tensor } from '@lmkit/tensor';

/**
 * Row-major C (m, n) = A (m, k) · B (k, n), or A · Bᵀ with B stored (n, k) when `transB`.
 * Products are summed in f32 by the GEMM (as AutoGPTQ does on the GPU); callers accumulate C into Float64.
 */
export function gemmF32(a: Float32Array, m: number, k: number, b: Float32Array, n: number, transB = false): Float32Array {
  return noGrad(() =>
    scope(() => {
      const ta = tensor(a, [m, k], { backend: 'cpu' });
      const tb = tensor(b, transB ? [n, k] : [k, n], { backend: 'cpu' });
      return matmul(ta, tb, { transB }).data() as Float32Array;
    }),
  );
}
