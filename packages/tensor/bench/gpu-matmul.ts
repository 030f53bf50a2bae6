// Benchmark: gpu backend matmul GFLOP/s — 4×4 tiled and 1×4 strip kernels vs the naive gpu.js kernel (the anchor) — on whatever GL this machine has.
import { ensureDisplay } from '../src/backends/gpu/display.js';
import { GpuRuntime } from '../src/backends/gpu/runtime.js';
import { matmul, type MatmulVariant } from '../src/backends/gpu/kernels/matmul.js';
import { uploadStorage, readStorage, type GpuStorage } from '../src/backends/gpu/storage.js';
import type { View } from '../src/backend.js';

/** Options read from the command line: `--sizes 128,256 --seconds 1`. */
interface BenchOptions {
  /** Square sizes N (default 128, 256, 512, 1024). */
  sizes: number[];
  /** Minimum seconds timed per (variant, N) after a warm-up call (default 1). */
  seconds: number;
}

function parseArgs(argv: string[]): BenchOptions {
  const opts: BenchOptions = { sizes: [128, 256, 512, 1024], seconds: 1 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sizes') opts.sizes = argv[++i]!.split(',').map(Number);
    else if (argv[i] === '--seconds') opts.seconds = Number(argv[++i]);
  }
  return opts;
}

function view(s: GpuStorage, n: number): View {
  return { storage: s, shape: [n, n], strides: [n, 1], offset: 0 };
}

/** GFLOP/s of one variant at N, each call including the read-back that waits for the GPU. */
function measure(rt: GpuRuntime, variant: MatmulVariant, a: View, b: View, n: number, seconds: number): { gflops: number; reps: number } {
  const first = matmul(rt, a, b, variant) as GpuStorage; // compiles the shaders
  readStorage(rt, first);
  first.release();
  const t0 = performance.now();
  let reps = 0;
  do {
    const c = matmul(rt, a, b, variant) as GpuStorage;
    readStorage(rt, c);
    c.release();
    reps++;
  } while (performance.now() - t0 < seconds * 1000);
  const dt = (performance.now() - t0) / 1000 / reps;
  return { gflops: (2 * n ** 3) / dt / 1e9, reps };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const display = await ensureDisplay();
  const rt = new GpuRuntime({ mode: 'gpu' });
  const i = rt.info;
  console.log(`gpu backend: ${i.kernelClass} (mode ${i.mode}, precision ${i.precision}, shader float ${i.shaderFloatBits} bits, ${i.drawBuffers} render targets → ${i.drawBuffers >= 4 ? "4×4" : "1×4"} tiles), renderer: ${i.renderer}`);
  console.log(`host: ${process.platform} ${process.arch}, node ${process.version}, display ${display.display}${display.started ? ' (Xvfb started here)' : ''}`);
  console.log('');
  console.log('|    N | naive gpu.js (anchor) GFLOP/s | 1×4 strip GFLOP/s | tiled GFLOP/s | tiled / naive | max |Δ| vs float64 |');
  console.log('|-----:|------------------------------:|------------------:|--------------:|--------------:|-------------------:|');
  for (const n of opts.sizes) {
    const ha = new Float32Array(n * n).map((_, k) => Math.sin(k * 0.37));
    const hb = new Float32Array(n * n).map((_, k) => Math.cos(k * 0.11));
    const a = view(uploadStorage(rt, ha, 'f32'), n);
    const b = view(uploadStorage(rt, hb, 'f32'), n);
    const naive = measure(rt, 'naive', a, b, n, n >= 1024 ? 0 : opts.seconds);
    const strip = measure(rt, 'strip', a, b, n, opts.seconds);
    const tiled = measure(rt, 'tiled', a, b, n, opts.seconds);
    // Accuracy of the tiled kernel on row 0 against a float64 dot product.
    const c = matmul(rt, a, b, 'tiled') as GpuStorage;
    const got = readStorage(rt, c) as Float32Array;
    c.release();
    let maxErr = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += ha[k]! * hb[k * n + j]!;
      maxErr = Math.max(maxErr, Math.abs(got[j]! - s));
    }
    (a.storage as GpuStorage).release();
    (b.storage as GpuStorage).release();
    console.log(`| ${String(n).padStart(4)} | ${naive.gflops.toFixed(2).padStart(29)} | ${strip.gflops.toFixed(2).padStart(17)} | ${tiled.gflops.toFixed(2).padStart(13)} | ${(tiled.gflops / naive.gflops).toFixed(1).padStart(12)}× | ${maxErr.toExponential(1).padStart(18)} |`);
  }
  rt.destroy();
  display.stop();
}

// NOTE: exit explicitly — the GL context and the Xvfb pipes would keep the event loop alive.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
