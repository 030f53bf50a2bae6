// The straightforward scalar Float64 factorization GPTQ used first: the reference the blocked GEMM version is tested and benchmarked against.

/** Columns (rows) per cache block of the factorizations. */
const NB = 64;

/** Σ_{k=from}^{n-1} a[ai + k]·a[bi + k] (rows of one row-major matrix), four partial sums. */
function rowDot(a: Float64Array, ai: number, bi: number, from: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = from;
  for (; k + 3 < n; k += 4) {
    s0 += a[ai + k] * a[bi + k];
    s1 += a[ai + k + 1] * a[bi + k + 1];
    s2 += a[ai + k + 2] * a[bi + k + 2];
    s3 += a[ai + k + 3] * a[bi + k + 3];
  }
  for (; k < n; k++) s0 += a[ai + k] * a[bi + k];
  return s0 + s1 + s2 + s3;
}

/**
 * Factors `V` upper-triangular with H = V·Vᵀ (a Cholesky factorization taken from the bottom-right
 * corner); returns null when H is not positive definite. Blocked by NB columns: the diagonal block
 * first, then every row above it while its tail is in cache.
 */
export function referenceUpperCholesky(h: Float64Array, n: number): Float64Array | null {
  const v = new Float64Array(n * n);
  for (let j1 = n; j1 > 0; j1 -= NB) {
    const j0 = Math.max(0, j1 - NB);
    for (let j = j1 - 1; j >= j0; j--) {
      const rj = j * n;
      const s = h[rj + j] - rowDot(v, rj, rj, j + 1, n);
      if (!(s > 0)) return null;
      const vjj = Math.sqrt(s);
      v[rj + j] = vjj;
      for (let i = j0; i < j; i++) v[i * n + j] = (h[i * n + j] - rowDot(v, i * n, rj, j + 1, n)) / vjj;
    }
    for (let i = 0; i < j0; i++) {
      const ri = i * n;
      for (let j = j1 - 1; j >= j0; j--) v[ri + j] = (h[ri + j] - rowDot(v, ri, j * n, j + 1, n)) / v[j * n + j];
    }
  }
  return v;
}

/**
 * Inverse U of an upper-triangular (n, n) V, from V·U = I: U_ii = 1/V_ii and, for j > i,
 * U_ij = −(Σ_{k>i} V_ik·U_kj) / V_ii. Rows are built bottom-up NB at a time, so each finished row of U
 * is read once per block rather than once per row.
 */
export function referenceInvertUpper(v: Float64Array, n: number): Float64Array {
  const u = new Float64Array(n * n); // rows accumulate Σ V_ik·U_k· before they are scaled
  const addRow = (i: number, k: number): void => {
    const c = v[i * n + k];
    if (c === 0) return;
    const ri = i * n;
    const rk = k * n;
    for (let j = k; j < n; j++) u[ri + j] += c * u[rk + j];
  };
  for (let i1 = n; i1 > 0; i1 -= NB) {
    const i0 = Math.max(0, i1 - NB);
    for (let k = i1; k < n; k++) for (let i = i0; i < i1; i++) addRow(i, k);
    for (let i = i1 - 1; i >= i0; i--) {
      for (let k = i + 1; k < i1; k++) addRow(i, k);
      const ri = i * n;
      const inv = 1 / v[ri + i];
      u[ri + i] = inv;
      for (let j = i + 1; j < n; j++) u[ri + j] *= -inv;
    }
  }
  return u;
}
