import { describe, expect, it } from 'vitest';
import { roundF16 } from '@lmkit/tensor';
import { dequantize, quantize, type QuantFormat, type QuantizedMatrix } from './formats.js';
import { inverseHessianFactor } from './gptq-hessian.js';
import { gptqQuantizeMatrix } from './gptq-matrix.js';
import { referenceInvertUpper, referenceUpperCholesky } from './internal/gptq-reference.js';

/** Deterministic standard normals (Box–Muller over an LCG). */
function normals(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** n samples (rows) of `cols` correlated, anisotropic inputs: a rank-8 signal with per-column gains, plus noise. */
function correlatedInputs(n: number, cols: number, seed: number): Float64Array {
  const rank = 8;
  const z = normals(n * rank, seed);
  const mix = normals(rank * cols, seed + 1);
  const noise = normals(n * cols, seed + 2);
  const x = new Float64Array(n * cols);
  for (let s = 0; s < n; s++)
    for (let c = 0; c < cols; c++) {
      let v = 0.05 * noise[s * cols + c];
      for (let k = 0; k < rank; k++) v += z[s * rank + k] * mix[k * cols + c];
      x[s * cols + c] = v * (1 + 4 * ((c * 7) % 5)); // some inputs far larger than others
    }
  return x;
}

/** H = 2·XᵀX/n for X (n, cols). */
function hessianOf(x: Float64Array, n: number, cols: number): Float64Array {
  const h = new Float64Array(cols * cols);
  for (let s = 0; s < n; s++)
    for (let i = 0; i < cols; i++) {
      const xi = x[s * cols + i];
      if (xi === 0) continue;
      for (let j = 0; j < cols; j++) h[i * cols + j] += xi * x[s * cols + j];
    }
  for (let i = 0; i < h.length; i++) h[i] *= 2 / n;
  return h;
}

/** ‖W·Xᵀ − Ŵ·Xᵀ‖²_F: the layer-wise output error GPTQ minimizes. */
function outputError(w: Float32Array, wq: Float32Array, x: Float64Array, rows: number, cols: number, n: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++)
    for (let s = 0; s < n; s++) {
      let y = 0;
      for (let c = 0; c < cols; c++) y += (w[r * cols + c] - wq[r * cols + c]) * x[s * cols + c];
      total += y * y;
    }
  return total;
}

function weights(rows: number, cols: number, seed: number): Float32Array {
  return Float32Array.from(normals(rows * cols, seed), (v) => v * 0.05);
}

function identity(n: number): Float64Array {
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) h[i * n + i] = 1;
  return h;
}

function expectSameMatrix(a: QuantizedMatrix, b: QuantizedMatrix): void {
  expect(a.blocksPerRow).toBe(b.blocksPerRow);
  expect(Array.from(a.scales)).toEqual(Array.from(b.scales));
  expect(Array.from(a.qs)).toEqual(Array.from(b.qs));
}

describe('inverseHessianFactor', () => {
  it('gives U upper-triangular with UᵀU = (H + λ·mean(diag)·I)⁻¹', () => {
    const n = 150; // more than two cache blocks of 64, the last one partial
    const x = correlatedInputs(400, n, 5);
    const h = hessianOf(x, 400, n);
    const { u, damp } = inverseHessianFactor(h, n, 0.01);
    expect(damp).toBe(0.01);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += h[i * n + i] / n;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    // (UᵀU)·H_damped = I
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) {
          let inv = 0; // (UᵀU)_ik
          for (let m = 0; m <= Math.min(i, k); m++) inv += u[m * n + i] * u[m * n + k];
          s += inv * (h[k * n + j] + (k === j ? 0.01 * mean : 0));
        }
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    // The O(n³) steps run on the f32 GEMM (as AutoGPTQ's fp32 Cholesky): f32 accuracy times H's conditioning.
    expect(worst).toBeLessThan(1e-3);
  });
  it('marks inputs that never fire as dead and still factors', () => {
    const n = 8;
    const x = correlatedInputs(32, n, 9);
    for (let s = 0; s < 32; s++) x[s * n + 3] = 0;
    const f = inverseHessianFactor(hessianOf(x, 32, n), n, 0.01);
    expect(f.dead).toEqual([3]);
    expect(f.u.every(Number.isFinite)).toBe(true);
  });
});

describe('gptqQuantizeMatrix', () => {
  for (const format of ['q8_0', 'q4_0'] as QuantFormat[]) {
    it(`${format}: with H = I it is exactly round-to-nearest (codes and scales), with or without act-order`, () => {
      for (const cols of [96, 80])
        for (const actOrder of [false, true]) {
          const w = weights(9, cols, 3);
          const g = gptqQuantizeMatrix(w, 9, cols, identity(cols), { format, actOrder });
          expectSameMatrix(g.q, quantize(w, 9, cols, format));
        }
    });

    it(`${format}: lowers ‖WX − ŴX‖² below round-to-nearest on correlated inputs`, () => {
      const rows = 24;
      const cols = 128;
      const n = 512;
      const x = correlatedInputs(n, cols, 11);
      const w = weights(rows, cols, 13);
      const h = hessianOf(x, n, cols);
      const g = gptqQuantizeMatrix(w, rows, cols, h, { format, blockSize: 64 });
      const rtn = dequantize(quantize(w, rows, cols, format));
      const eGptq = outputError(w, g.dequantized, x, rows, cols, n);
      const eRtn = outputError(w, rtn, x, rows, cols, n);
      expect(eGptq).toBeLessThan(0.5 * eRtn); // measured ≈ 0.06 for both formats
      const act = gptqQuantizeMatrix(w, rows, cols, h, { format, blockSize: 64, actOrder: true });
      expect(outputError(w, act.dequantized, x, rows, cols, n)).toBeLessThan(0.5 * eRtn);
    });

    for (const variant of [{}, { scaleSearch: true }, { actOrder: true }]) it(`${format} ${JSON.stringify(variant)}: codes are in range, scales are f16 values, and quantize(dequantized) gives the same blocks`, () => {
      const rows = 16;
      const cols = 160;
      const x = correlatedInputs(256, cols, 17);
      const w = weights(rows, cols, 19);
      const g = gptqQuantizeMatrix(w, rows, cols, hessianOf(x, 256, cols), { format, ...variant });
      for (const s of g.q.scales) expect(roundF16(s)).toBe(s);
      if (format === 'q8_0') for (const c of g.q.qs as Int8Array) expect(Math.abs(c)).toBeLessThanOrEqual(127);
      expect(Array.from(dequantize(g.q))).toEqual(Array.from(g.dequantized));
      expectSameMatrix(quantize(g.dequantized, rows, cols, format), g.q);
    });
  }

  it('scale search lowers the importance-weighted error Σ H_jj·(w − q)² (diagonal H: no error moves, so it is exact)', () => {
    const rows = 32;
    const cols = 128;
    const h = new Float64Array(cols * cols);
    const gains = normals(cols, 31);
    for (let i = 0; i < cols; i++) h[i * cols + i] = 0.05 + gains[i] * gains[i];
    const w = weights(rows, cols, 37);
    const weighted = (wq: Float32Array) => {
      let e = 0;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) e += h[c * cols + c] * (w[r * cols + c] - wq[r * cols + c]) ** 2;
      return e;
    };
    for (const format of ['q8_0', 'q4_0'] as QuantFormat[]) {
      const plain = gptqQuantizeMatrix(w, rows, cols, h, { format });
      expectSameMatrix(plain.q, quantize(w, rows, cols, format)); // diagonal H: plain GPTQ is round-to-nearest
      const searched = gptqQuantizeMatrix(w, rows, cols, h, { format, scaleSearch: true });
      expect(weighted(searched.dequantized)).toBeLessThan(0.98 * weighted(plain.dequantized)); // measured 0.96 (q8_0), 0.85 (q4_0)
    }
  });

  it('zeroes the weights of dead inputs and stays finite', () => {
    const rows = 4;
    const cols = 64;
    const x = correlatedInputs(128, cols, 23);
    for (let s = 0; s < 128; s++) x[s * cols + 5] = 0;
    const g = gptqQuantizeMatrix(weights(rows, cols, 29), rows, cols, hessianOf(x, 128, cols), { format: 'q4_0' });
    expect(g.deadInputs).toBe(1);
    for (let r = 0; r < rows; r++) expect(Math.abs(g.dequantized[r * cols + 5])).toBe(0);
    expect(g.dequantized.every(Number.isFinite)).toBe(true);
  });

  it('q8_0: the blocked f32-GEMM version matches a straightforward Float64 GPTQ (no lazy batches)', () => {
    const [rows, cols, n] = [48, 320, 600];
    const x = correlatedInputs(n, cols, 41);
    const h = hessianOf(x, n, cols);
    const w = weights(rows, cols, 42);
    const ref = straightforwardGptqQ8(w, rows, cols, h);
    const got = gptqQuantizeMatrix(w, rows, cols, h, { format: 'q8_0' }).dequantized;
    let same = 0;
    for (let i = 0; i < got.length; i++) if (got[i] === ref[i]) same++;
    expect(same / got.length).toBeGreaterThan(0.995); // a code may flip where f32 rounding crosses a half-step
    const eRef = outputError(w, ref, x, rows, cols, n);
    expect(Math.abs(outputError(w, got, x, rows, cols, n) - eRef) / eRef).toBeLessThan(0.01);
  });
  it('rejects a lazy-batch size that is not a multiple of 32', () => {
    expect(() => gptqQuantizeMatrix(weights(2, 32, 1), 2, 32, identity(32), { format: 'q8_0', blockSize: 48 })).toThrow(/blockSize must be a positive multiple of 32/);
  });
});

/**
 * GPTQ q8_0 as the paper states it, all in Float64: U from the scalar reference factorization, and each
 * column's scaled error pushed at once onto every later column (no lazy batches, no GEMM).
 */
function straightforwardGptqQ8(weight: Float32Array, rows: number, cols: number, h: Float64Array): Float32Array {
  const damped = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < cols; i++) mean += h[i * cols + i] / cols;
  for (let i = 0; i < cols; i++) damped[i * cols + i] += 0.01 * mean;
  const u = referenceInvertUpper(referenceUpperCholesky(damped, cols)!, cols);
  const w = Float64Array.from(weight);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const ro = r * cols;
    let d = 0;
    let pin = -1;
    for (let c = 0; c < cols; c++) {
      if (c % 32 === 0) {
        let amax = 0;
        for (let j = c; j < c + 32; j++) if (Math.abs(w[ro + j]) > amax) (amax = Math.abs(w[ro + j])), (pin = j);
        d = roundF16(amax / 127);
      }
      const x = w[ro + c];
      const code = c === pin ? Math.sign(x) * 127 : d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(x / d)));
      out[ro + c] = code * d;
      const e = (x - code * d) / u[c * cols + c];
      for (let k = c + 1; k < cols; k++) w[ro + k] -= e * u[c * cols + k];
    }
  }
  return out;
}
