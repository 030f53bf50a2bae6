// GPTQ's inverse-Hessian factor: dampen H = 2XXᵀ/n, handle dead inputs, and return U upper with H⁻¹ = UᵀU (Float64).
import { InferError } from '../errors.js';

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

/**
 * Factors `V` upper-triangular with H = V·Vᵀ (a Cholesky factorization taken from the bottom-right
 * corner); returns null when H is not positive definite.
 */
function upperLowerCholesky(h: Float64Array, n: number): Float64Array | null {
  const v = new Float64Array(n * n);
  for (let j = n - 1; j >= 0; j--) {
    const rj = j * n;
    let s = h[rj + j];
    for (let k = j + 1; k < n; k++) s -= v[rj + k] * v[rj + k];
    if (!(s > 0)) return null;
    const vjj = Math.sqrt(s);
    v[rj + j] = vjj;
    const inv = 1 / vjj;
    for (let i = 0; i < j; i++) {
      const ri = i * n;
      let t = h[ri + j];
      for (let k = j + 1; k < n; k++) t -= v[ri + k] * v[rj + k];
      v[ri + j] = t * inv;
    }
  }
  return v;
}

/** Inverse of an upper-triangular (n, n) matrix, also upper-triangular. */
function invertUpper(v: Float64Array, n: number): Float64Array {
  const u = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    row.fill(0, i);
    const ri = i * n;
    // Row i of U from V·U = I: U_ij = −(Σ_{k>i} V_ik·U_kj) / V_ii for j > i, and U_ii = 1/V_ii.
    for (let k = i + 1; k < n; k++) {
      const c = v[ri + k];
      if (c === 0) continue;
      const rk = k * n;
      for (let j = k; j < n; j++) row[j] += c * u[rk + j];
    }
    const inv = 1 / v[ri + i];
    u[ri + i] = inv;
    for (let j = i + 1; j < n; j++) u[ri + j] = -row[j] * inv;
  }
  return u;
}

/**
 * Prepares GPTQ's factor from a layer Hessian `h` (row-major (n, n), e.g. 2XXᵀ/n): dead inputs
 * (H_ii = 0) get H_ii = 1 as in the paper, then λ·mean(diag H) is added to the diagonal. If H is
 * still not positive definite (numerically), λ grows tenfold up to 1.
 * Why the bottom-right factorization: with H = V·Vᵀ (V upper), H⁻¹ = V⁻ᵀ·V⁻¹, so U = V⁻¹ is the upper
 * Cholesky factor of H⁻¹ without forming H⁻¹ (two n³/3 steps instead of four).
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
    const damped = Float64Array.from(work);
    for (let i = 0; i < n; i++) damped[i * n + i] += lambda * mean;
    const v = upperLowerCholesky(damped, n);
    if (v) return { n, u: invertUpper(v, n), dead, damp: lambda };
    if (lambda >= 1) {
      throw new InferError('INFER_BAD_CALIBRATION', `gptq: the ${n}×${n} Hessian stays indefinite even with dampening ${lambda}`, { hint: 'use more calibration tokens (--calib-samples) or a larger --damp' });
    }
  }
}
