// GPTQ (Frantar et al. 2022) for one weight matrix into ggml's q8_0/q4_0 blocks: quantize columns in order, pushing each error onto the rest via H⁻¹.
import { roundF16 } from '@lmkit/tensor';
import { InferError } from '../errors.js';
import { QK, type QuantFormat, type QuantizedMatrix } from './formats.js';
import { inverseHessianFactor } from './gptq-hessian.js';
import { gemmF32 } from './internal/gemm-f32.js';

/** Options of {@link gptqQuantizeMatrix}. */
export interface GptqMatrixOptions {
  /** Block format to produce. */
  format: QuantFormat;
  /** Dampening λ: λ·mean(diag H) is added to H's diagonal. Default 0.01 (the paper's). */
  damp?: number;
  /** Columns per lazy batch update (a multiple of 32). Default 128 (the paper's). */
  blockSize?: number;
  /**
   * Choose each block's scale from a grid (ggml's scale × 1, 0.98, …, 0.80) minimizing the
   * activation-weighted error Σ H_jj·(w_j − q_j)² over the block, as llama.cpp's imatrix does, instead
   * of ggml's scale alone. Default false.
   */
  scaleSearch?: boolean;
  /**
   * Quantize columns in order of decreasing H_jj (GPTQ's act-order / desc_act) with static block scales:
   * every block's scale is fixed from the original weights first (as AutoGPTQ's static_groups), since a
   * ggml block must keep one scale for 32 adjacent columns. Default false.
   */
  actOrder?: boolean;
}

/** Shrink factors tried by the scale search (≤ 1, so the largest weight keeps the extreme code). */
const SCALE_GRID = Array.from({ length: 11 }, (_, i) => 1 - 0.02 * i);

/** What {@link gptqQuantizeMatrix} produced. */
export interface GptqMatrixResult {
  /** The quantized matrix: ordinary ggml blocks, readable by every q8_0/q4_0 reader. */
  q: QuantizedMatrix;
  /**
   * The dequantized weights (rows, cols), codes × scales. Each block holds at least one extreme code, so
   * plain {@link quantize} of these values gives back exactly `q` (how GGUF export keeps the GPTQ codes).
   */
  dequantized: Float32Array;
  /** The paper's loss: Σ (w − q)² / (2·U_ii²) over all weights (U_ii² = [H⁻¹]_ii over the columns not yet quantized), the predicted rise of ½·tr(ΔW·H·ΔWᵀ). */
  loss: number;
  /** Dampening used (larger than asked when H needed it). */
  damp: number;
  /** Inputs that were always zero on the calibration data (their weights are set to 0, as in the paper). */
  deadInputs: number;
  /** Milliseconds spent factoring H (dampening, Cholesky, triangular inverse). */
  factorMs: number;
  /** Milliseconds spent in the column sweep with its lazy batch updates. */
  sweepMs: number;
}

/** A block's scale (ggml's, or the best of the grid), and the element that takes the extreme code. */
interface BlockScale {
  d: number;
  /** Column (absolute) of the element that fixed the scale, or -1 when d = 0. */
  pin: number;
  /** The extreme code that element gets: ±127 for q8_0, −8 for q4_0. */
  pinCode: number;
}

function blockScale(w: Float64Array, start: number, end: number, rowStart: number, format: QuantFormat, importance: Float64Array | null): BlockScale {
  let at = -1;
  let base: number;
  if (format === 'q8_0') {
    let amax = 0;
    for (let j = start; j < end; j++) {
      const a = Math.abs(w[rowStart + j]);
      if (a > amax) (amax = a), (at = j);
    }
    base = amax / 127;
  } else {
    // ggml q4_0: d = (signed value of largest magnitude) / −8, so that value is exactly code −8.
    let max = 0;
    for (let j = start; j < end; j++) {
      const x = w[rowStart + j];
      if (Math.abs(x) > Math.abs(max)) (max = x), (at = j);
    }
    base = max / -8;
  }
  let d = roundF16(base);
  if (d === 0) return { d: 0, pin: -1, pinCode: 0 };
  if (importance) {
    let best = Infinity;
    for (const shrink of SCALE_GRID) {
      const candidate = roundF16(base * shrink);
      if (candidate === 0) continue;
      const id = 1 / candidate;
      let e = 0;
      for (let j = start; j < end; j++) {
        const x = w[rowStart + j];
        const code = j === at ? (format === 'q8_0' ? Math.sign(x) * 127 : -8) : nearestCode(x, id, format);
        e += importance[j] * (x - code * candidate) ** 2;
      }
      if (e < best) (best = e), (d = candidate);
    }
  }
  return { d, pin: at, pinCode: format === 'q8_0' ? (w[rowStart + at] > 0 ? 127 : -127) : -8 };
}

/** Nearest code of `x` with the inverse scale `id`, rounded exactly as formats.ts does. */
function nearestCode(x: number, id: number, format: QuantFormat): number {
  if (format === 'q8_0') return Math.max(-127, Math.min(127, Math.round(x * id)));
  return Math.min(15, Math.max(0, Math.trunc(x * id + 8.5))) - 8;
}

/**
 * Quantizes a row-major (rows, cols) weight (a Linear's (out, in)) with GPTQ given the layer Hessian
 * `hessian` = 2·XXᵀ/n over its calibration inputs X (cols, n), row-major (cols, cols).
 *
 * Columns are quantized in order. At each block of 32 the scale is chosen from the block's current
 * (error-updated) weights exactly as ggml would (amax/127 for q8_0, max/−8 for q4_0), and the element
 * that set it gets the extreme code; every other weight takes its nearest code. Each column's error,
 * divided by [U]_ii, is pushed onto the later columns of its batch through the rows of U (H⁻¹ = UᵀU),
 * and a batch's errors onto the columns after it in one lazy update (blockSize columns, as in the paper).
 * With H ∝ I no error moves and the result is plain round-to-nearest. With `scaleSearch` the scale is
 * the best of a small grid under Σ H_jj·(w_j − q_j)² (still with the extreme code, so the file keeps it).
 * With `actOrder` every block's scale is fixed from the original weights first and the columns are then
 * swept by decreasing H_jj (U comes from H permuted the same way).
 */
export function gptqQuantizeMatrix(weight: Float32Array, rows: number, cols: number, hessian: Float64Array, options: GptqMatrixOptions): GptqMatrixResult {
  const { format } = options;
  const batch = options.blockSize ?? 128;
  if (weight.length !== rows * cols) throw new InferError('INFER_BAD_SHAPE', `gptq: the weight has ${weight.length} values, expected rows×cols = ${rows}×${cols}`);
  if (!(Number.isInteger(batch) && batch > 0 && batch % QK === 0)) {
    throw new InferError('INFER_BAD_CONFIG', `gptq: blockSize must be a positive multiple of ${QK}, got ${batch}`, { hint: 'the paper uses 128' });
  }
  const w = Float64Array.from(weight);
  for (let c = 0; c < cols; c++) if (hessian[c * cols + c] === 0) for (let r = 0; r < rows; r++) w[r * cols + c] = 0; // dead inputs
  let importance: Float64Array | null = null;
  if (options.scaleSearch) {
    importance = new Float64Array(cols);
    for (let i = 0; i < cols; i++) importance[i] = hessian[i * cols + i];
  }
  const bpr = Math.ceil(cols / QK);
  const scales = new Float32Array(rows * bpr);
  const pins = new Int32Array(rows * bpr).fill(-1);
  const pinCodes = new Int8Array(rows * bpr);
  const setScale = (bi: number, s: BlockScale): void => {
    scales[bi] = s.d;
    pins[bi] = s.pin;
    pinCodes[bi] = s.pinCode;
  };

  // The sweep runs over positions p; column order[p] of the weight is quantized at position p.
  const order = Int32Array.from({ length: cols }, (_, i) => i);
  let wp = w;
  let hp = hessian;
  if (options.actOrder) {
    for (let r = 0; r < rows; r++) for (let b = 0; b < bpr; b++) setScale(r * bpr + b, blockScale(w, b * QK, Math.min(b * QK + QK, cols), r * cols, format, importance));
    order.sort((a, b) => hessian[b * cols + b] - hessian[a * cols + a] || a - b);
    wp = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let p = 0; p < cols; p++) wp[r * cols + p] = w[r * cols + order[p]];
    hp = new Float64Array(cols * cols);
    for (let p = 0; p < cols; p++) for (let q = 0; q < cols; q++) hp[p * cols + q] = hessian[order[p] * cols + order[q]];
  }
  const t0 = performance.now();
  const factor = inverseHessianFactor(hp, cols, options.damp ?? 0.01);
  const u = factor.u;
  const t1 = performance.now();

  const qs = format === 'q8_0' ? new Int8Array(rows * bpr * QK) : new Uint8Array(rows * bpr * (QK / 2)).fill(0x88); // q4_0 padding = code 0 (value 0)
  const dequantized = new Float32Array(rows * cols);
  const err = new Float64Array(rows * batch);
  let loss = 0;

  for (let i1 = 0; i1 < cols; i1 += batch) {
    const i2 = Math.min(i1 + batch, cols);
    // Sub-batches of QK columns (ggml blocks when in column order): a column's error reaches the rest of
    // its sub-batch at once, the batch's later sub-batches through one GEMM per sub-batch, the columns
    // after the batch through the lazy update — the same sums as the paper's, regrouped.
    for (let s1 = i1; s1 < i2; s1 += QK) {
    const s2 = Math.min(s1 + QK, i2);
    for (let r = 0; r < rows; r++) {
      const ro = r * cols;
      for (let p = s1; p < s2; p++) {
        const c = order[p];
        const b = (c / QK) | 0;
        const j = c % QK;
        const bi = r * bpr + b;
        // In column order the block's scale comes from its current, error-updated weights (wp = w here).
        if (!options.actOrder && j === 0) setScale(bi, blockScale(wp, c, Math.min(c + QK, cols), ro, format, importance));
        const d = scales[bi];
        const x = wp[ro + p];
        const code = (c === pins[bi] ? pinCodes[bi] : nearestCode(x, d === 0 ? 0 : 1 / d, format)) | 0; // | 0: no −0 codes
        const value = code * d;
        if (format === 'q8_0') (qs as Int8Array)[bi * QK + j] = code;
        else {
          const at = bi * (QK / 2) + (j % (QK / 2));
          const nibble = code + 8;
          qs[at] = j < QK / 2 ? (qs[at] & 0xf0) | nibble : (qs[at] & 0x0f) | (nibble << 4);
        }
        dequantized[ro + c] = value;
        const e = (x - value) / u[p * cols + p];
        loss += (e * e) / 2;
        err[r * batch + (p - i1)] = e;
        if (e === 0) continue;
        const up = p * cols;
        for (let k = p + 1; k < s2; k++) wp[ro + k] -= e * u[up + k];
      }
    }
    if (s2 < i2) errorUpdate(wp, rows, cols, err, batch, s1 - i1, u, s1, s2, i2);
    }
    if (i2 < cols) errorUpdate(wp, rows, cols, err, batch, 0, u, i1, i2, cols);
  }
  const sweepMs = performance.now() - t1;
  return { q: { format, rows, cols, blocksPerRow: bpr, scales, qs }, dequantized, loss, damp: factor.damp, deadInputs: factor.dead.length, factorMs: t1 - t0, sweepMs };
}

/** Rows per GEMM of the lazy batch update (bounds its f32 temporaries for a vocabulary-sized head). */
const UPDATE_ROWS = 4096;

/**
 * GPTQ's (lazy) error update W[:, to:end] −= Err · U[from:to, to:end] on the f32 GEMM (as AutoGPTQ in
 * fp32), subtracted from the Float64 weights; the errors of positions from..to are columns
 * errCol.. of the (rows, batch) `err`.
 */
function errorUpdate(w: Float64Array, rows: number, cols: number, err: Float64Array, batch: number, errCol: number, u: Float64Array, from: number, to: number, end: number): void {
  const k = to - from;
  const rest = end - to;
  const ub = new Float32Array(k * rest);
  for (let i = 0; i < k; i++) for (let c = 0; c < rest; c++) ub[i * rest + c] = u[(from + i) * cols + to + c];
  for (let r0 = 0; r0 < rows; r0 += UPDATE_ROWS) {
    const m = Math.min(UPDATE_ROWS, rows - r0);
    const eb = new Float32Array(m * k);
    for (let r = 0; r < m; r++) for (let i = 0; i < k; i++) eb[r * k + i] = err[(r0 + r) * batch + errCol + i];
    const d = gemmF32(eb, m, k, ub, rest);
    for (let r = 0; r < m; r++) {
      const wo = (r0 + r) * cols + to;
      const dr = r * rest;
      for (let c = 0; c < rest; c++) w[wo + c] -= d[dr + c];
    }
  }
}
