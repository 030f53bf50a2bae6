// Row softmax and GELU: our WebAssembly SIMD kernels (1 and 2 threads) against the plain JS loops (Math.exp, Math.tanh) they replace, side by side.
//
// Run: pnpm bench:kernels. Flags: --rounds R (default 5, best kept: the machine is shared).
import { allocF32, freeF32, geluTanh, geluTanhGrad, initWasmKernels, setThreads, softmaxRows } from '../src/backends/wasm/index';

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

const K = Math.sqrt(2 / Math.PI);

/** The JS GELU (tanh) forward loop. */
function geluJs(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = 0.5 * v * (1 + Math.tanh(K * (v + 0.044715 * v * v * v)));
  }
}

/** The JS GELU (tanh) backward loop. */
function geluGradJs(x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = Math.tanh(K * (v + 0.044715 * v * v * v));
    dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * K * (1 + 3 * 0.044715 * v * v));
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

interface Case {
  label: string;
  /** Elements per call. */
  size: number;
  js: (x: Float32Array, y: Float32Array) => void;
  ours: (x: Float32Array, y: Float32Array) => void;
}

const softmaxCase = (label: string, rows: number, cols: number): Case => ({
  label: `softmax ${label} ${rows} × ${cols}`,
  size: rows * cols,
  js: (x, y) => softmaxJs(x, y, rows, cols),
  ours: (x, y) => softmaxRows({ x, y, rows, cols }),
});
const cases: Case[] = [
  softmaxCase('attention scores', 8 * 4 * 128, 128),
  softmaxCase('logits', 256, 50257),
  { label: 'GELU forward 1024 × 1024', size: 1 << 20, js: geluJs, ours: (x, y) => geluTanh({ x, y }) },
  { label: 'GELU backward 1024 × 1024', size: 1 << 20, js: (x, y) => geluGradJs(x, x, y), ours: (x, y) => geluTanhGrad({ x, dy: x, dx: y }) },
];

await initWasmKernels({ threads: 2 });
console.log(`best of ${rounds} rounds × 200 ms; ns per element (lower is better); shared 2-core machine\n`);
console.log('| case | JS loop | ours 1T | ours 2T | JS / ours 1T | 1T / 2T |');
console.log('|---|---|---|---|---|---|');
for (const c of cases) {
  const n = c.size;
  const x = allocF32(n);
  const y = allocF32(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i) * 8;
  const best = [Infinity, Infinity, Infinity];
  for (let r = 0; r < rounds; r++) {
    best[0] = Math.min(best[0], nsPerElement(() => c.js(x, y), n));
    await setThreads(1);
    best[1] = Math.min(best[1], nsPerElement(() => c.ours(x, y), n));
    await setThreads(2);
    best[2] = Math.min(best[2], nsPerElement(() => c.ours(x, y), n));
  }
  const [js, one, two] = best;
  console.log(`| ${c.label} | ${js.toFixed(2)} | ${one.toFixed(2)} | ${two.toFixed(2)} | ${(js / one).toFixed(1)}× | ${(one / two).toFixed(2)}× |`);
  freeF32(x);
  freeF32(y);
}
