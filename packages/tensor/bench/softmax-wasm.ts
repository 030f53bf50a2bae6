// Row softmax: our WebAssembly SIMD kernel (1 and 2 threads) against the plain JS loop (Math.exp) it replaces, side by side.
//
// Run: pnpm bench:softmax. Flags: --rounds R (default 5, best kept: the machine is shared).
import { allocF32, freeF32, initWasmKernels, setThreads, softmaxRows } from '../src/backends/wasm/index';

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 5;

/** The JS loop: max, exp and sum, scale — what a typed-array softmax does without SIMD. */
function softmaxJs(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let i = 0; i < cols; i++) if (x[o + i] > m) m = x[o + i];
    let s = 0;
    for (let i = 0; i < cols; i++) {
      const e = Math.exp(x[o + i] - m);
      y[o + i] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let i = 0; i < cols; i++) y[o + i] *= inv;
  }
}

function nsPerElement(run: () => void, elements: number): number {
  run();
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < 200) {
    run();
    calls++;
  }
  return ((performance.now() - start) * 1e6) / calls / elements;
}

const cases = [
  { label: 'attention scores 8·4·128 × 128', rows: 8 * 4 * 128, cols: 128 },
  { label: 'logits 256 × 50257', rows: 256, cols: 50257 },
];

await initWasmKernels({ threads: 2 });
console.log(`best of ${rounds} rounds × 200 ms; ns per element (lower is better); shared 2-core machine\n`);
console.log('| case | JS loop | ours 1T | ours 2T | JS / ours 1T | 1T / 2T |');
console.log('|---|---|---|---|---|---|');
for (const c of cases) {
  const n = c.rows * c.cols;
  const x = allocF32(n);
  const y = allocF32(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 8;
  const best = [Infinity, Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    best[0] = Math.min(best[0], nsPerElement(() => softmaxJs(x, y, c.rows, c.cols), n));
    await setThreads(1);
    best[1] = Math.min(best[1], nsPerElement(() => softmaxRows({ x, y, rows: c.rows, cols: c.cols }), n));
    await setThreads(2);
    best[2] = Math.min(best[2], nsPerElement(() => softmaxRows({ x, y, rows: c.rows, cols: c.cols }), n));
  }
  const [js, one, two] = best;
  console.log(`| ${c.label} | ${js.toFixed(2)} | ${one.toFixed(2)} | ${two.toFixed(2)} | ${(js / one).toFixed(1)}× | ${(one / two).toFixed(2)}× |`);
  freeF32(x);
  freeF32(y);
}
