// f32 GEMM on @lmkit/tensor's cpu matmul (WASM SIMD, multi-threaded) for plain arrays: the heavy steps of GPTQ run through it.
import { matmul, noGrad, scope, tensor } from '@lmkit/tensor';

/** Operand layouts of {@link gemmF32}. */
export interface GemmLayout {
  /** A is stored (k, m) and used transposed. Default false. */
  transA?: boolean;
  /** B is stored (n, k) and used transposed. Default false. */
  transB?: boolean;
}

/**
 * Row-major C (m, n) = op(A) · op(B) with op(A) (m, k) and op(B) (k, n).
 * Products are summed in f32 by the GEMM (as AutoGPTQ does on the GPU); callers accumulate C into Float64.
 */
export function gemmF32(a: Float32Array, m: number, k: number, b: Float32Array, n: number, layout: GemmLayout = {}): Float32Array {
  const { transA = false, transB = false } = layout;
  return noGrad(() =>
    scope(() => {
      const ta = tensor(a, transA ? [k, m] : [m, k], { backend: 'cpu' });
      const tb = tensor(b, transB ? [n, k] : [k, n], { backend: 'cpu' });
      return matmul(ta, tb, { transA, transB }).data() as Float32Array;
    }),
  );
}
