import { describe, expect, it } from 'vitest';
import { createRng } from '@lmkit/tensor';
import { addGramUpper, choleskyLower, inverseHessianFactor, invertLower, mirrorUpper } from './gptq-hessian.js';
import { referenceInvertUpper, referenceUpperCholesky } from './internal/gptq-reference.js';

/** H = 2XᵀX/t for t tokens of n correlated features with a wide spread of scales (as real activations). */
export function syntheticHessian(n: number, tokens: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const scale = Float64Array.from({ length: n }, (_, i) => (i % 17 === 0 ? 20 : 1) * Math.exp(-3 * rng.random()));
  const x = new Float64Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    const shared = rng.normal();
    for (let i = 0; i < n; i++) x[t * n + i] = scale[i] * (0.6 * shared + rng.normal());
  }
  const h = new Float64Array(n * n);
  for (let t = 0; t < tokens; t++) {
    const row = t * n;
    for (let i = 0; i < n; i++) {
      const xi = (2 * x[row + i]) / tokens;
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) h[i * n + j] += xi * x[row + j];
    }
  }
  return h;
}

/** The scalar Float64 factor GPTQ used before the blocked one (same dampening), for comparison. */
function referenceFactor(h: Float64Array, n: number, damp: number): Float64Array {
  const d = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d[i * n + i] / n;
  for (let i = 0; i < n; i++) d[i * n + i] += damp * mean;
  const v = referenceUpperCholesky(d, n);
  if (!v) throw new Error('reference: not positive definite');
  return referenceInvertUpper(v, n);
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

describe('blocked inverse-Hessian factor', () => {
  it('lower Cholesky and triangular inverse match the definitions across block edges', () => {
    const n = 300; // blocks of 128, 128, 44
    const h = syntheticHessian(n, 600, 1);
    for (let i = 0; i < n; i++) h[i * n + i] += 0.01;
    const l = Float64Array.from(h);
    expect(choleskyLower(l, n)).toBe(true);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) l[i * n + j] = 0;
    let worst = 0; // ‖L·Lᵀ − H‖ / ‖H‖
    for (let i = 0; i < n; i += 7) for (let j = 0; j <= i; j += 3) worst = Math.max(worst, Math.abs(rowProduct(l, l, n, i, j) - h[i * n + j]));
    expect(worst / maxAbs(h)).toBeLessThan(1e-6);
    const x = invertLower(l, n);
    let identity = 0; // ‖X·L − I‖
    for (let i = 0; i < n; i += 5) for (let j = 0; j < n; j += 5) {
      let s = 0;
      for (let k = 0; k < n; k++) s += x[i * n + k] * l[k * n + j];
      identity = Math.max(identity, Math.abs(s - (i === j ? 1 : 0)));
    }
    expect(identity).toBeLessThan(1e-4);
  });

  it('matches the scalar Float64 reference within 1e-4 of max |U|', () => {
    const n = 320;
    const h = syntheticHessian(n, 800, 2);
    const { u, damp } = inverseHessianFactor(h, n, 0.01);
    expect(damp).toBe(0.01);
    const ref = referenceFactor(h, n, 0.01);
    const diff = ref.map((v, i) => v - u[i]);
    expect(maxAbs(diff) / maxAbs(ref)).toBeLessThan(1e-4);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
  });

  it('sums XᵀX by panels on and above the diagonal, exactly as the full product would (f32 tolerance)', () => {
    const [rows, n] = [70, 600]; // panels of 256, 256, 88
    const rng = createRng(4);
    const x = Float32Array.from({ length: rows * n }, () => rng.normal());
    const sum = new Float64Array(n * n);
    addGramUpper(sum, x, rows, n);
    addGramUpper(sum, x, rows, n);
    mirrorUpper(sum, n);
    let worst = 0;
    for (let i = 0; i < n; i += 3)
      for (let j = 0; j < n; j += 5) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += x[r * n + i] * x[r * n + j];
        worst = Math.max(worst, Math.abs(sum[i * n + j] - 2 * s));
      }
    expect(worst).toBeLessThan(1e-3); // entries are O(rows) = O(70)
  });

  it('flags a singular Hessian as indefinite and raises the dampening', () => {
    const n = 130;
    const h = syntheticHessian(n, 40, 3); // rank ≤ 40
    const { damp } = inverseHessianFactor(h, n, 0);
    expect(damp).toBeGreaterThan(0);
  });
});

/** Σ_k a[i,k]·b[j,k] (row i of a with row j of b). */
function rowProduct(a: Float64Array, b: Float64Array, n: number, i: number, j: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[i * n + k] * b[j * n + k];
  return s;
}
