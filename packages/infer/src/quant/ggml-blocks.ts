// Converting QuantizedMatrix to and from ggml's on-disk block layout (f16 scale, then the codes, per block).
import { f16ToF32, f32ToF16 } from '@lmkit/tensor';
import { QK, type QuantFormat, type QuantizedMatrix } from './formats.js';

/** Bytes of one block on disk. */
export function blockBytes(format: QuantFormat): number {
  return format === 'q8_0' ? 2 + QK : 2 + QK / 2;
}

/** Serializes a matrix in ggml block order (row by row, block by block). */
export function toGgmlBlocks(q: QuantizedMatrix): Uint8Array {
  const nBlocks = q.rows * q.blocksPerRow;
  const size = blockBytes(q.format);
  const codeBytes = size - 2;
  const out = new Uint8Array(nBlocks * size);
  const scales = f32ToF16(q.scales);
  const codes = new Uint8Array(q.qs.buffer, q.qs.byteOffset, q.qs.byteLength);
  for (let b = 0; b < nBlocks; b++) {
    out[b * size] = scales[b] & 0xff;
    out[b * size + 1] = scales[b] >> 8;
    out.set(codes.subarray(b * codeBytes, (b + 1) * codeBytes), b * size + 2);
  }
  return out;
}

/** Parses ggml blocks of a (rows, cols) matrix; `cols` must be a multiple of 32 (as ggml requires). */
export function fromGgmlBlocks(bytes: Uint8Array, rows: number, cols: number, format: QuantFormat): QuantizedMatrix {
  const bpr = cols / QK;
  const nBlocks = rows * bpr;
  const size = blockBytes(format);
  const codeBytes = size - 2;
  const scaleBits = new Uint16Array(nBlocks);
  const codes = new Uint8Array(nBlocks * codeBytes);
  for (let b = 0; b < nBlocks; b++) {
    scaleBits[b] = bytes[b * size] | (bytes[b * size + 1] << 8);
    codes.set(bytes.subarray(b * size + 2, (b + 1) * size), b * codeBytes);
  }
  const qs = format === 'q8_0' ? new Int8Array(codes.buffer) : codes;
  return { format, rows, cols, blocksPerRow: bpr, scales: f16ToF32(scaleBits), qs };
}

/** Stacks matrices with the same columns and format row-wise (e.g. q, k, v into a fused qkv). */
export function concatRows(parts: QuantizedMatrix[]): QuantizedMatrix {
  const first = parts[0];
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const scales = new Float32Array(rows * first.blocksPerRow);
  const qs = first.format === 'q8_0' ? new Int8Array(rows * first.blocksPerRow * QK) : new Uint8Array(rows * first.blocksPerRow * (QK / 2));
  let s = 0;
  let c = 0;
  for (const p of parts) {
    scales.set(p.scales, s);
    (qs as Uint8Array).set(p.qs as Uint8Array, c);
    s += p.scales.length;
    c += p.qs.length;
  }
  return { format: first.format, rows, cols: first.cols, blocksPerRow: first.blocksPerRow, scales, qs };
}

/** Rows [start, end) of a quantized matrix (shares no memory with it). */
export function sliceRows(q: QuantizedMatrix, start: number, end: number): QuantizedMatrix {
  const per = q.format === 'q8_0' ? QK : QK / 2;
  const qs = q.qs.slice(start * q.blocksPerRow * per, end * q.blocksPerRow * per);
  return { ...q, rows: end - start, scales: q.scales.slice(start * q.blocksPerRow, end * q.blocksPerRow), qs };
}
