import { describe, expect, it } from 'vitest';
import { roundF16 } from '@lmkit/tensor';
import { QK, dequantize, quantize, quantizedBytes } from './formats.js';
import { quantizedMatmul, quantizedMatmulJs } from './matmul.js';
import { quantKernelInfo } from './wasm-kernels.js';
import { randomMatrix } from './test-random.js';

describe('q8_0 / q4_0 formats', () => {
  it('q8_0 round trip error is within half a step per block', () => {
    const rows = 7;
    const cols = 96;
    const w = randomMatrix(rows, cols);
    const q = quantize(w, rows, cols, 'q8_0');
    const back = dequantize(q);
    for (let r = 0; r < rows; r++)
      for (let b = 0; b < cols / QK; b++) {
        const d = q.scales[r * q.blocksPerRow + b];
        for (let j = 0; j < QK; j++) {
          const i = r * cols + b * QK + j;
          expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(d * 0.5 + d * 1e-3 + 1e-7);
        }
      }
  });
  it('q4_0 follows ggml: d = max/-8, codes value+8, low nibble first', () => {
    const block = new Float32Array(QK);
    for (let j = 0; j < QK; j++) block[j] = (j - 8) / 4; // max magnitude is 23/4 at j = 31
    const q = quantize(block, 1, QK, 'q4_0');
    expect(q.scales[0]).toBeCloseTo(roundF16(5.75 / -8), 7);
    const back = dequantize(q);
    expect(back[31]).toBeCloseTo(5.75, 2); // the extreme maps to code 0 → exactly -8·d
    const qs = q.qs as Uint8Array;
    expect(qs[15] >> 4).toBe(0); // element 31 sits in the high nibble of byte 15
    const d = Math.abs(q.scales[0]);
    for (let j = 0; j < QK; j++) expect(Math.abs(back[j] - block[j])).toBeLessThanOrEqual(d * 0.5 + 1e-6);
  });
  it('sizes match ggml (34 bytes per q8_0 block, 18 per q4_0 block)', () => {
    expect(quantizedBytes('q8_0', 768, 768)).toBe(768 * 24 * 34);
    expect(quantizedBytes('q4_0', 768, 768)).toBe(768 * 24 * 18);
  });
  it('a partial last block is zero-padded and round-trips', () => {
    const w = randomMatrix(3, 45, 9);
    for (const format of ['q8_0', 'q4_0'] as const) {
      const back = dequantize(quantize(w, 3, 45, format));
      expect(back.length).toBe(135);
      // NOTE: q4_0's codes span [-8, 7], so a value of the opposite sign to the block's extreme can be off by a whole step d = |max|/8.
      for (let i = 0; i < w.length; i++) expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(format === 'q8_0' ? 0.1 / 127 / 2 + 1e-6 : 0.1 / 8 + 1e-6);
    }
  });
});

describe('quantizedMatmul', () => {
  for (const format of ['q8_0', 'q4_0'] as const) {
    for (const [tokens, rows, cols] of [[1, 5, 64], [3, 17, 100], [2, 1, 32]] as const) {
      it(`${format}: equals the product with dequantized weights (T=${tokens}, ${rows}×${cols})`, () => {
        const w = randomMatrix(rows, cols, rows * cols);
        const x = randomMatrix(tokens, cols, 77);
        const bias = randomMatrix(1, rows, 5);
        const q = quantize(w, rows, cols, format);
        const wd = dequantize(q);
        const y = quantizedMatmulJs(x, tokens, q, bias);
        const yw = quantizedMatmul(x, tokens, q, bias, undefined, 'wasm');
        for (let t = 0; t < tokens; t++)
          for (let r = 0; r < rows; r++) {
            let ref = bias[r];
            let scale = 0;
            for (let c = 0; c < cols; c++) {
              ref += x[t * cols + c] * wd[r * cols + c];
              scale += Math.abs(x[t * cols + c] * wd[r * cols + c]);
            }
            expect(y[t * rows + r]).toBeCloseTo(ref, 5);
            // NOTE: the wasm kernel also rounds activations to q8_0 (≤ half a step of max|x|/127 per element).
            expect(Math.abs(yw[t * rows + r] - ref)).toBeLessThanOrEqual(scale / 127 + 1e-6);
          }
      });
    }
  }
});

describe('wasm kernels', () => {
  it('are in use on Node', () => {
    expect(quantKernelInfo().mode).toBe('wasm-simd');
  });
});
