// The JS reference GEMM (float64 accumulation) behind the cpu matmul, with the sgemm parameter block the wasm kernels share.

/** Parameters of one (batched) GEMM: C = A·B (+ C when beta = 1), BLAS row-major conventions. */
export interface SgemmParams {
  /** Rows of op(A) and C. */ m: number;
  /** Columns of op(B) and C. */ n: number;
  /** Inner dimension. */ k: number;
  /** A's elements. */ a: Float32Array;
  /** Offset of A's first element. */ aOffset: number;
  /** Row stride of A as stored (≥ k, or ≥ m when transA). */ lda: number;
  /** A is stored (k, m), i.e. op(A) = Aᵀ. */ transA: boolean;
  /** B's elements. */ b: Float32Array;
  /** Offset of B's first element. */ bOffset: number;
  /** Row stride of B as stored. */ ldb: number;
  /** B is stored (n, k), i.e. op(B) = Bᵀ. */ transB: boolean;
  /** C's elements. */ c: Float32Array;
  /** Offset of C's first element. */ cOffset: number;
  /** Row stride of C. */ ldc: number;
  /** 0 overwrites C, 1 accumulates into it. */ beta: 0 | 1;
  /** Number of matrices (default 1). */ batch?: number;
  /** Element stride between A matrices. */ strideA?: number;
  /** Element stride between B matrices. */ strideB?: number;
  /** Element stride between C matrices. */ strideC?: number;
}

/** A GEMM implementation with the SgemmParams signature. */
export type Sgemm = (p: SgemmParams) => void;

/** The JS GEMM: loops ordered so the innermost one is unit-stride, accumulating in float64. */
export function sgemmJs(p: SgemmParams): void {
  const batch = p.batch ?? 1;
  for (let q = 0; q < batch; q++) {
    gemmOne(p, p.aOffset + q * (p.strideA ?? 0), p.bOffset + q * (p.strideB ?? 0), p.cOffset + q * (p.strideC ?? 0));
  }
}

function gemmOne(p: SgemmParams, aOff: number, bOff: number, cOff: number): void {
  const { m, n, k, a, b, c, lda, ldb, ldc, transA, transB, beta } = p;
  if (!transB) {
    // C[i,:] = Σ_p A[i,p]·B[p,:] — B rows are contiguous.
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let pp = 0; pp < k; pp++) {
        const aip = transA ? a[aOff + pp * lda + i] : a[aOff + i * lda + pp];
        const br = bOff + pp * ldb;
        for (let j = 0; j < n; j++) acc[j] += aip * b[br + j];
      }
      const cr = cOff + i * ldc;
      if (beta === 0) for (let j = 0; j < n; j++) c[cr + j] = acc[j];
      else for (let j = 0; j < n; j++) c[cr + j] += acc[j];
    }
    return;
  }
  // B stored (n, k): C[i,j] = A[i,:]·B[j,:] as unit-stride dot products.
  const arow = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    if (transA) for (let pp = 0; pp < k; pp++) arow[pp] = a[aOff + pp * lda + i];
    else for (let pp = 0; pp < k; pp++) arow[pp] = a[aOff + i * lda + pp];
    const cr = cOff + i * ldc;
    for (let j = 0; j < n; j++) {
      const br = bOff + j * ldb;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pp = 0;
      for (; pp + 3 < k; pp += 4) {
        s0 += arow[pp] * b[br + pp];
        s1 += arow[pp + 1] * b[br + pp + 1];
        s2 += arow[pp + 2] * b[br + pp + 2];
        s3 += arow[pp + 3] * b[br + pp + 3];
      }
      for (; pp < k; pp++) s0 += arow[pp] * b[br + pp];
      const s = s0 + s1 + s2 + s3;
      if (beta === 0) c[cr + j] = s;
      else c[cr + j] += s;
    }
  }
}
