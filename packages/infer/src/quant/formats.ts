// q8_0 and q4_0 block quantization (llama.cpp/ggml layouts): 32 values per block, one f16 scale per block.
import { roundF16 } from '@lmkit/tensor';
import { InferError } from '../errors.js';

/** Values per block, for both formats. */
export const QK = 32;

/** A supported block format. */
export type QuantFormat = 'q8_0' | 'q4_0';

/**
 * A (rows, cols) matrix quantized row by row in blocks of 32 along `cols` (for a Linear weight of
 * shape (out, in), blocks run along `in`, the dimension a matvec reduces over).
 * `scales[r * blocksPerRow + b]` is the block's scale `d` (stored as f32 here, rounded through f16 as
 * ggml does, so files round-trip exactly); `qs` holds int8 values (q8_0) or two 4-bit codes per byte (q4_0:
 * low nibble = element j, high nibble = element j + 16 of the block, value = code − 8).
 */
export interface QuantizedMatrix {
  format: QuantFormat;
  rows: number;
  cols: number;
  /** ceil(cols / 32); a partial last block is zero-padded. */
  blocksPerRow: number;
  scales: Float32Array;
  qs: Int8Array | Uint8Array;
}

/** Bytes a quantized matrix takes in ggml's layout (2-byte scale + 32 or 16 bytes per block). */
export function quantizedBytes(format: QuantFormat, rows: number, cols: number): number {
  const blocks = rows * Math.ceil(cols / QK);
  return blocks * (2 + (format === 'q8_0' ? QK : QK / 2));
}

/** Quantizes a row-major (rows, cols) f32 matrix. */
export function quantize(data: Float32Array, rows: number, cols: number, format: QuantFormat): QuantizedMatrix {
  if (data.length !== rows * cols) throw new InferError('INFER_BAD_SHAPE', `quantize: data has ${data.length} values, expected rows×cols = ${rows}×${cols}`);
  const bpr = Math.ceil(cols / QK);
  const scales = new Float32Array(rows * bpr);
  const qs = format === 'q8_0' ? new Int8Array(rows * bpr * QK) : new Uint8Array(rows * bpr * (QK / 2));
  const block = new Float32Array(QK);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < bpr; b++) {
      block.fill(0);
      const start = r * cols + b * QK;
      const n = Math.min(QK, cols - b * QK);
      for (let j = 0; j < n; j++) block[j] = data[start + j];
      const bi = r * bpr + b;
      if (format === 'q8_0') {
        let amax = 0;
        for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(block[j]));
        const d = roundF16(amax / 127);
        const id = d === 0 ? 0 : 1 / d;
        scales[bi] = d;
        for (let j = 0; j < QK; j++) (qs as Int8Array)[bi * QK + j] = Math.max(-127, Math.min(127, Math.round(block[j] * id)));
      } else {
        // NOTE: ggml q4_0 scales by the signed value of largest magnitude, d = max / -8, so that
        // extreme maps exactly to code 0 and the range [-8, 7] is used asymmetrically.
        let max = 0;
        for (let j = 0; j < QK; j++) if (Math.abs(block[j]) > Math.abs(max)) max = block[j];
        const d = roundF16(max / -8);
        const id = d === 0 ? 0 : 1 / d;
        scales[bi] = d;
        for (let j = 0; j < QK / 2; j++) {
          const x0 = Math.min(15, Math.max(0, Math.trunc(block[j] * id + 8.5)));
          const x1 = Math.min(15, Math.max(0, Math.trunc(block[j + QK / 2] * id + 8.5)));
          (qs as Uint8Array)[bi * (QK / 2) + j] = x0 | (x1 << 4);
        }
      }
    }
  }
  return { format, rows, cols, blocksPerRow: bpr, scales, qs };
}

/** Expands a quantized matrix back to row-major f32 (rows, cols). */
export function dequantize(q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(q.rows * q.cols);
  const row = new Float32Array(q.blocksPerRow * QK);
  for (let r = 0; r < q.rows; r++) {
    dequantizeRow(q, r, row);
    out.set(row.subarray(0, q.cols), r * q.cols);
  }
  return out;
}

/** Dequantizes row `r` into `out` (length ≥ blocksPerRow × 32). */
export function dequantizeRow(q: QuantizedMatrix, r: number, out: Float32Array): void {
  const bpr = q.blocksPerRow;
  for (let b = 0; b < bpr; b++) {
    const bi = r * bpr + b;
    const d = q.scales[bi];
    if (q.format === 'q8_0') {
      const qs = q.qs as Int8Array;
      for (let j = 0; j < QK; j++) out[b * QK + j] = qs[bi * QK + j] * d;
    } else {
      const qs = q.qs as Uint8Array;
      for (let j = 0; j < QK / 2; j++) {
        const byte = qs[bi * (QK / 2) + j];
        out[b * QK + j] = ((byte & 0x0f) - 8) * d;
        out[b * QK + j + QK / 2] = ((byte >> 4) - 8) * d;
      }
    }
  }
}
