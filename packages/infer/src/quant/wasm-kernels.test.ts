// The threaded wasm q8_0/q4_0 kernels against an exact JS model of their arithmetic, on 1 and 2 threads.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { QK, dequantize, quantize, type QuantFormat, type QuantizedMatrix } from './formats.js';
import { quantizedMatmulJs } from './matmul.js';
import { closeQuantThreads, quantKernelInfo, setQuantThreads, wasmQuantizedMatmul } from './wasm-kernels.js';
import { randomMatrix } from './test-random.js';

/** Round half to even, as f32x4.nearest. */
function nearest(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The kernels' arithmetic in JS: activations quantized to q8_0 with f32 rounding (d = max|x|/127,
 * codes = nearest(x · (1/d))), an exact integer dot product per block, then Σ_b int · d_w · d_x.
 */
function modelOfKernel(x: Float32Array, tokens: number, w: QuantizedMatrix, bias?: Float32Array): Float64Array {
  const { rows, cols, blocksPerRow: nb } = w;
  const codes = dequantize({ ...w, scales: new Float32Array(w.scales.length).fill(1) }); // integer weight codes (−8 applied for q4_0)
  const y = new Float64Array(tokens * rows);
  const xq = new Float64Array(nb * QK);
  const xd = new Float64Array(nb);
  for (let t = 0; t < tokens; t++) {
    for (let b = 0; b < nb; b++) {
      let m = 0;
      for (let j = 0; j < QK; j++) if (b * QK + j < cols) m = Math.max(m, Math.abs(x[t * cols + b * QK + j]));
      const d = Math.fround(m / 127);
      const id = d !== 0 ? Math.fround(1 / d) : 0;
      xd[b] = d;
      for (let j = 0; j < QK; j++) xq[b * QK + j] = b * QK + j < cols ? nearest(Math.fround(x[t * cols + b * QK + j] * id)) : 0;
    }
    for (let r = 0; r < rows; r++) {
      let acc = bias ? bias[r] : 0;
      for (let b = 0; b < nb; b++) {
        let s = 0;
        for (let j = 0; j < QK && b * QK + j < cols; j++) s += codes[r * cols + b * QK + j] * xq[b * QK + j];
        acc += s * w.scales[r * nb + b] * xd[b];
      }
      y[t * rows + r] = acc;
    }
  }
  return y;
}

async function threadsReady(n: number): Promise<void> {
  setQuantThreads(n);
  for (let i = 0; i < 200 && quantKernelInfo().threadsReady < n; i++) await new Promise((r) => setTimeout(r, 25));
  expect(quantKernelInfo().threadsReady).toBe(n);
}

afterAll(async () => {
  await closeQuantThreads();
});

describe('threaded wasm quantized kernels', () => {
  const cases: Array<[QuantFormat, number, number, number]> = [
    ['q8_0', 1, 130, 96], // 33 groups (the last one 2 rows): split over 2 threads
    ['q8_0', 20, 133, 100], // more tokens than one tile; a partial last block
    ['q4_0', 1, 131, 64],
    ['q4_0', 19, 129, 100],
    ['q8_0', 3, 5, 32], // too small to split
  ];
  for (const [format, tokens, rows, cols] of cases) {
    it(`${format} T=${tokens} ${rows}×${cols}: equal to the exact model of the kernel, identical on 1 and 2 threads`, async () => {
      const q = quantize(randomMatrix(rows, cols, rows + cols), rows, cols, format);
      const x = randomMatrix(tokens, cols, 11);
      x[3] = 0.5; // one outlier per block at most changes the scale, not the checks
      const bias = randomMatrix(1, rows, 5);
      const ref = modelOfKernel(x, tokens, q, bias);
      await threadsReady(1);
      const one = wasmQuantizedMatmul(x, tokens, q, bias, new Float32Array(tokens * rows))!;
      await threadsReady(2);
      const two = wasmQuantizedMatmul(x, tokens, q, bias, new Float32Array(tokens * rows))!;
      expect(Array.from(two)).toEqual(Array.from(one));
      const exact = quantizedMatmulJs(x, tokens, q, bias);
      for (let i = 0; i < ref.length; i++) {
        // NOTE: only the f32 rounding of the per-block scaling and the sum differs from the model.
        expect(Math.abs(one[i] - ref[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(ref[i])));
        // and the activation rounding keeps it near the f32-activation reference
        expect(Math.abs(one[i] - exact[i])).toBeLessThanOrEqual(0.02);
      }
    });
  }

  it('rejects a bad thread count with a typed error', () => {
    expect(() => setQuantThreads(0)).toThrow(expect.objectContaining({ code: 'INFER_BAD_ARGUMENT' }));
  });
});

const clang = process.env.CLANG ?? 'clang-14';
const haveClang = spawnSync(clang, ['--version']).status === 0;
it.skipIf(!haveClang)(haveClang ? 'qkernels.wasm.ts is reproducible from qkernels.c' : `qkernels.wasm.ts reproducibility (skipped: ${clang} not installed)`, () => {
  const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));
  expect(execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' })).toContain('matches a fresh build');
});
