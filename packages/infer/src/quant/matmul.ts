// Matrix products computed directly on q8_0 / q4_0 weights, without expanding them to f32.
import { InferError } from '../errors.js';
import { QK, type QuantizedMatrix } from './formats.js';
import { wasmQuantizedMatmul } from './wasm-kernels.js';

/** Which kernel a quantized matmul uses: 'auto' (wasm SIMD when available), 'wasm', or 'js' (exact f32 activations). */
export type QuantKernel = 'auto' | 'wasm' | 'js';

/**
 * y (T, rows) = x (T, cols) · Wᵀ for a quantized W (rows, cols), plus `bias` when given. The wasm
 * kernel quantizes activations to q8_0 per block (llama.cpp's scheme) and runs int8 dot products;
 * the js kernel keeps activations in f32 and is the reference.
 */
export function quantizedMatmul(x: Float32Array, tokens: number, w: QuantizedMatrix, bias?: Float32Array, out?: Float32Array, kernel: QuantKernel = 'auto'): Float32Array {
  if (x.length < tokens * w.cols) throw new InferError('INFER_BAD_SHAPE', `quantizedMatmul: x has ${x.length} values, expected tokens×cols = ${tokens}×${w.cols}`);
  const y = out ?? new Float32Array(tokens * w.rows);
  if (kernel !== 'js') {
    const done = wasmQuantizedMatmul(x, tokens, w, bias, y);
    if (done) return done;
    if (kernel === 'wasm') throw new InferError('INFER_NO_WASM_SIMD', 'the wasm quantized kernels need WebAssembly SIMD, which this runtime lacks', { hint: "use kernel 'js' or a runtime with WebAssembly SIMD (Node ≥ 16.4)" });
  }
  return quantizedMatmulJs(x, tokens, w, bias, y);
}

/**
 * The JavaScript reference of {@link quantizedMatmul}: each block's dot product runs on the raw int8 /
 * 4-bit codes against f32 activations and is scaled once by the block's d.
 */
export function quantizedMatmulJs(x: Float32Array, tokens: number, w: QuantizedMatrix, bias?: Float32Array, out?: Float32Array): Float32Array {
  const { rows, cols, blocksPerRow: bpr } = w;
  if (x.length < tokens * cols) throw new InferError('INFER_BAD_SHAPE', `quantizedMatmul: x has ${x.length} values, expected tokens×cols = ${tokens}×${cols}`);
  const y = out ?? new Float32Array(tokens * rows);
  const fullBlocks = Math.floor(cols / QK);
  const tail = cols - fullBlocks * QK;
  const scales = w.scales;
  if (w.format === 'q8_0') {
    const qs = w.qs as Int8Array;
    for (let t = 0; t < tokens; t++) {
      const xo = t * cols;
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        let bi = r * bpr;
        let qo = bi * QK;
        let xi = xo;
        for (let b = 0; b < fullBlocks; b++, bi++, qo += QK, xi += QK) {
          let s0 = 0;
          let s1 = 0;
          for (let j = 0; j < QK; j += 2) {
            s0 += qs[qo + j] * x[xi + j];
            s1 += qs[qo + j + 1] * x[xi + j + 1];
          }
          acc += (s0 + s1) * scales[bi];
        }
        if (tail > 0) {
          let s = 0;
          for (let j = 0; j < tail; j++) s += qs[qo + j] * x[xi + j];
          acc += s * scales[bi];
        }
        y[t * rows + r] = bias ? acc + bias[r] : acc;
      }
    }
  } else {
    const qs = w.qs as Uint8Array;
    const H = QK / 2;
    for (let t = 0; t < tokens; t++) {
      const xo = t * cols;
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let b = 0; b < bpr; b++) {
          const bi = r * bpr + b;
          const qo = bi * H;
          const xi = xo + b * QK;
          const n = Math.min(QK, cols - b * QK);
          let s = 0;
          let xsum = 0;
          if (n === QK) {
            for (let j = 0; j < H; j++) {
              const byte = qs[qo + j];
              const a = x[xi + j];
              const c = x[xi + j + H];
              s += (byte & 0x0f) * a + (byte >> 4) * c;
              xsum += a + c;
            }
          } else {
            for (let j = 0; j < H; j++) {
              const byte = qs[qo + j];
              if (j < n) {
                s += (byte & 0x0f) * x[xi + j];
                xsum += x[xi + j];
              }
              if (j + H < n) {
                s += (byte >> 4) * x[xi + j + H];
                xsum += x[xi + j + H];
              }
            }
          }
          // NOTE: Σ (code − 8)·x = Σ code·x − 8·Σ x, so the −8 offset costs one multiply per block.
          acc += (s - 8 * xsum) * scales[bi];
        }
        y[t * rows + r] = bias ? acc + bias[r] : acc;
      }
    }
  }
  return y;
}
