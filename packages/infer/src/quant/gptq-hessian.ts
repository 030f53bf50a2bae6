// GPTQ's Hessian: its sums XᵀX, then the damped factor U upper with H⁻¹ = UᵀU, blocked with the O(n³) steps on the f32 GEMM.
import { InferError } from '../errors.js';
import { gemmF32 } from './internal/gemm-f32.js';

/** A prepared inverse-Hessian factor for one layer. */
export interface InverseHessianFactor {
  /** Size n (the layer's input features). */
  n: number;
  /** Row-major (n, n) upper-triangular U with H⁻¹ = UᵀU (the paper's `Cholesky(H⁻¹)ᵀ`). */
  u: Float64Array;
  /** Inputs whose H_ii was 0 on the calibration data (their weight columns carry no signal). */
  dead: number[];
  /** Dampening actually added, as a fraction of mean(diag H) (the requested one, or larger if H needed it). */
  damp: number;
}

/** Rows per block of the blocked factorizations (the inner size of their GEMMs). */
const NB = 128;

/** Σ_{p=from}^{to-1} a[ai + p]·a[bi + p] (parts of two rows of one row-major matrix), four partial sums. */
function rowDot(a: Float64Array, ai: number, bi: number, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let p = from;
  for (; p + 3 < to; p += 4) {
    s0 += a[ai + p] * a[bi + p];
    s1 += a[ai + p + 1] * a[bi + p + 1];
    s2 += a[ai + p + 2] * a[bi + p + 2];
    s3 += a[ai + p + 3] * a[bi + p + 3];
  }
  for (; p < to; p++) s0 += a[ai + p] * a[bi + p];
  return s0 + s1 + s2 + s3;
}

/** The (rows, cols) block of row-major `a` (row stride n) at (r0, c0), as f32 for the GEMM. */
function blockF32(a: Float64Array, n: number, r0: number, rows: number, c0: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const src = (r0 + i) * n + c0;
    for (let j = 0; j < cols; j++) out[i * cols + j] = a[src + j];
  }
  return out;
}

/**
 * Lower Cholesky in place (A = L·Lᵀ; the lower triangle of row-major `a` becomes L, the upper one is
 * ignored); false when A is not positive definite. Right-looking, blocked by NB: the diagonal block and
 * the panel below it are factored in Float64, then A₂₂ −= L₂₁·L₂₁ᵀ runs on the f32 GEMM and is
 * subtracted in Float64 (the O(n³) part, as AutoGPTQ's fp32 Cholesky).
 */
export function choleskyLower(a: Float64Array, n: number): boolean {
  for (let k0 = 0; k0 < n; k0 += NB) {
    const k1 = Math.min(k0 + NB, n);
    for (let j = k0; j < k1; j++) {
      const rj = j * n;
      const s = a[rj + j] - rowDot(a, rj, rj, k0, j);
      if (!(s > 0)) return false;
      const ljj = Math.sqrt(s);
      a[rj + j] = ljj;
      for (let i = j + 1; i < k1; i++) a[i * n + j] = (a[i * n + j] - rowDot(a, i * n, rj, k0, j)) / ljj;
    }
    for (let i = k1; i < n; i++) {
      const ri = i * n;
      for (let j = k0; j < k1; j++) a[ri + j] = (a[ri + j] - rowDot(a, ri, j * n, k0, j)) / a[j * n + j];
    }
    if (k1 === n) break;
    const m = n - k1;
    const panel = blockF32(a, n, k1, m, k0, k1 - k0);
    const g = gemmF32(panel, m, k1 - k0, panel, m, { transB: true });
    for (let i = 0; i < m; i++) {
      const ri = (k1 + i) * n + k1;
      const gi = i * m;
      for (let j = 0; j <= i; j++) a[ri + j] -= g[gi + j];
    }
  }
  return true;
}

/**
 * Inverse X of a lower-triangular L (lower triangle of row-major `l`), by block rows of NB: the diagonal
 * block by substitution in Float64, then X[I, :I] = −X_II·(L[I, :I]·X[:I, :I]) with both products on
 * the f32 GEMM.
 */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += NB) {
    const i1 = Math.min(i0 + NB, n);
    const b = i1 - i0;
    for (let i = i0; i < i1; i++) {
      const ri = i * n;
      for (let k = i0; k < i; k++) {
        const c = l[ri + k];
        if (c === 0) continue;
        const rk = k * n;
        for (let j = i0; j <= k; j++) x[ri + j] += c * x[rk + j];
      }
      const inv = 1 / l[ri + i];
      for (let j = i0; j < i; j++) x[ri + j] *= -inv;
      x[ri + i] = inv;
    }
    if (i0 === 0) continue;
    const t = gemmF32(blockF32(l, n, i0, b, 0, i0), b, i0, blockF32(x, n, 0, i0, 0, i0), i0);
    const y = gemmF32(blockF32(x, n, i0, b, i0, b), b, b, t, i0);
    for (let i = 0; i < b; i++) for (let j = 0; j < i0; j++) x[(i0 + i) * n + j] = -y[i * i0 + j];
  }
  return x;
}

/** Row-major `a` (n, n) with rows and columns in reverse order (P·A·P). */
function reversed(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[(n - 1 - i) * n + (n - 1 - j)] = a[i * n + j];
  return out;
}

/** Columns per panel of {@link addGramUpper}. */
const PANEL = 256;

/**
 * Adds XᵀX of row-major `x` (rows, n) to the upper triangle (diagonal included) of the Float64 (n, n)
 * `sum`. Panels of PANEL columns, X[:, a:b]ᵀ·X[:, a:] each on the f32 GEMM, skip the blocks below the
 * diagonal (about half of the full product for large n). Fill the lower triangle with {@link mirrorUpper}.
 */
export function addGramUpper(sum: Float64Array, x: Float32Array, rows: number, n: number): void {
  for (let a = 0; a < n; a += PANEL) {
    const w = Math.min(PANEL, n - a);
    const rest = n - a;
    const left = new Float32Array(rows * w);
    const right = a === 0 ? x : new Float32Array(rows * rest);
    for (let r = 0; r < rows; r++) {
      const src = r * n + a;
      for (let j = 0; j < w; j++) left[r * w + j] = x[src + j];
      if (a > 0) for (let j = 0; j < rest; j++) right[r * rest + j] = x[src + j];
    }
    const g = gemmF32(left, w, rows, right, rest, { transA: true }); // (w, rest)
    for (let i = 0; i < w; i++) {
      const so = (a + i) * n + a;
      const go = i * rest;
      for (let j = i; j < rest; j++) sum[so + j] += g[go + j];
    }
  }
}

/** Copies the upper triangle of row-major (n, n) `a` onto the lower one, in place. */
export function mirrorUpper(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[j * n + i] = a[i * n + j];
  return a;
}

/**
 * Prepares GPTQ's factor from a layer Hessian `h` (row-major (n, n), e.g. 2XXᵀ/n): dead inputs
 * (H_ii = 0) get H_ii = 1 as in the paper, then λ·mean(diag H) is added to the diagonal. If H is
 * still not positive definite (numerically), λ grows tenfold up to 1.
 * Why a factorization from the bottom-right corner: with H = V·Vᵀ (V upper), H⁻¹ = V⁻ᵀ·V⁻¹, so U = V⁻¹
 * is the upper Cholesky factor of H⁻¹ without forming H⁻¹ (two n³/3 steps instead of four). V is the
 * ordinary lower Cholesky factor of H with rows and columns reversed (V = P·L·P), so both steps are the
 * blocked lower-triangular ones above, their O(n³) parts on the f32 GEMM.
 */
export function inverseHessianFactor(h: Float64Array, n: number, damp: number): InverseHessianFactor {
  if (h.length !== n * n) throw new InferError('INFER_BAD_SHAPE', `gptq: the Hessian has ${h.length} values, expected ${n}×${n}`);
  if (!(damp >= 0)) throw new InferError('INFER_BAD_CONFIG', `gptq: damp must be ≥ 0, got ${damp}`, { hint: 'the paper uses 0.01 (1% of the mean diagonal)' });
  const work = Float64Array.from(h);
  const dead: number[] = [];
  let trace = 0;
  for (let i = 0; i < n; i++) {
    const d = work[i * n + i];
    if (!Number.isFinite(d)) throw new InferError('INFER_BAD_CALIBRATION', `gptq: the Hessian diagonal at input ${i} is ${d}`, { hint: 'the calibration activations overflowed; check the model for non-finite weights' });
    if (d === 0) {
      dead.push(i);
      work[i * n + i] = 1;
    }
    trace += work[i * n + i];
  }
  const mean = trace / n;
  for (let lambda = damp; ; lambda = lambda === 0 ? 1e-6 : lambda * 10) {
    const l = reversed(work, n);
    for (let i = 0; i < n; i++) l[i * n + i] += lambda * mean;
    if (choleskyLower(l, n)) return { n, u: reversed(invertLower(l, n), n), dead, damp: lambda };
    if (lambda >= 1) {
      throw new InferError('INFER_BAD_CALIBRATION', `gptq: the ${n}×${n} Hessian stays indefinite even with dampening ${lambda}`, { hint: 'use more calibration tokens (--calib-samples) or a larger --damp' });
    }
  }
}
