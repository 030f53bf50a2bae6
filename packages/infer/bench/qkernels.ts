// Quantized matmul kernels against @lmkit/tensor's f32 WASM matmul (the anchor), side by side: GEMV (decode) and GEMM (prefill) shapes of gpt2-124m.
import { availableParallelism, cpus } from 'node:os';
import { matmul, tensor, useWasmKernels, noGrad } from '@lmkit/tensor';
import { quantize, quantizedMatmul, quantizedBytes } from '../src/index.js';
import { quantKernelInfo, setQuantThreads } from '../src/quant/wasm-kernels.js';

const quick = process.argv.includes('--quick');

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** Best ms of `fn` over enough runs to fill ~`budgetMs` (the least disturbed run on a shared machine). */
function time(fn: () => void, budgetMs = quick ? 150 : 600): number {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < budgetMs || samples.length < 5) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return Math.min(...samples);
}

async function main(): Promise<void> {
  useWasmKernels();
  quantKernelInfo(); // starts the worker threads
  await new Promise((r) => setTimeout(r, 500));
  console.log(`# quantized kernels vs f32 — ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} threads available, ${JSON.stringify(quantKernelInfo())}`);
  console.log('| shape (T×cols → rows) | f32 ms | q8_0 1 thr ms | q8_0 ms | q4_0 ms | q8_0 GB/s | q8_0 vs f32 | q4_0 vs f32 |');
  console.log('|---|---|---|---|---|---|---|---|');
  const shapes: Array<[number, number, number]> = [[1, 768, 3072], [1, 3072, 768], [1, 768, 50304], [128, 768, 3072]];
  for (const [T, cols, rows] of shapes) {
    const w = random(rows * cols, 7);
    const x = random(T * cols, 9);
    const y = new Float32Array(T * rows);
    const W = tensor(w, [rows, cols]);
    const X = tensor(x, [T, cols]);
    const f32 = time(() => noGrad(() => matmul(X, W, { transB: true }).data()));
    const q8 = quantize(w, rows, cols, 'q8_0');
    const q4 = quantize(w, rows, cols, 'q4_0');
    const threads = quantKernelInfo().threads;
    setQuantThreads(1);
    const q8one = time(() => quantizedMatmul(x, T, q8, undefined, y, 'wasm'));
    setQuantThreads(threads);
    const q8ms = time(() => quantizedMatmul(x, T, q8, undefined, y, 'wasm'));
    const q4ms = time(() => quantizedMatmul(x, T, q4, undefined, y, 'wasm'));
    const gbs = quantizedBytes('q8_0', rows, cols) / (q8ms / 1000) / 1e9;
    console.log(`| ${T}×${cols} → ${rows} | ${f32.toFixed(2)} | ${q8one.toFixed(2)} | ${q8ms.toFixed(2)} | ${q4ms.toFixed(2)} | ${gbs.toFixed(1)} | ${(f32 / q8ms).toFixed(2)}× | ${(f32 / q4ms).toFixed(2)}× |`);
  }
}

await main();
