// gpu-check: prints the gpu backend's real mode and precision, its matmul GFLOP/s and the conformance result — run it on a machine with a GPU.
import { backendInfo, runConformance } from '../src/index.js';
import { ensureDisplay, registerGpuBackend, type GpuMode } from '../src/backends/gpu/index.js';
import { GpuBackend } from '../src/backends/gpu/backend.js';
import { findBackend } from '../src/backend.js';
import { matmul } from '../src/backends/gpu/kernels/matmul.js';
import { readStorage, uploadStorage, type GpuStorage } from '../src/backends/gpu/storage.js';

/** Command-line options. */
interface CheckOptions {
  /** gpu.js mode to ask for (default `gpu`: a GL kernel or an error). */
  mode: GpuMode;
  /** Square matmul sizes to time (default 256, 512, 1024). */
  sizes: number[];
  /** Start Xvfb when DISPLAY is unset (default true; `--no-xvfb` to see what happens without X). */
  xvfb: boolean;
  /** gpu.js precision to ask for (default: single). */
  precision: 'single' | 'unsigned';
  /** Compiled-kernel cache size (default: the runtime's 512). */
  maxKernels?: number;
  /** Skip the conformance suite (default false). */
  skipConformance: boolean;
}

function parseArgs(argv: string[]): CheckOptions {
  const o: CheckOptions = { mode: 'gpu', sizes: [256, 512, 1024], xvfb: true, precision: 'single', skipConformance: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--mode') o.mode = argv[++i] as GpuMode;
    else if (a === '--sizes') o.sizes = argv[++i]!.split(',').map(Number);
    else if (a === '--no-xvfb') o.xvfb = false;
    else if (a === '--precision') o.precision = argv[++i] as 'single' | 'unsigned';
    else if (a === '--max-kernels') o.maxKernels = Number(argv[++i]);
    else if (a === '--no-conformance') o.skipConformance = true;
    else throw new Error(`gpu-check: unknown argument '${a}' (use --mode, --precision, --max-kernels, --sizes, --no-xvfb, --no-conformance)`);
  }
  return o;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const display = opts.xvfb ? await ensureDisplay() : null;
  if (display !== null) console.log(`display: ${display.display ?? `none (${display.reason})`}${display.started ? ' — Xvfb started for this run' : ''}`);
  let info;
  try {
    info = registerGpuBackend({ mode: opts.mode, precision: opts.precision, ...(opts.maxKernels === undefined ? {} : { maxKernels: opts.maxKernels }) });
  } catch (e) {
    const err = e as Error & { code?: string; hint?: string };
    console.log(`gpu backend: UNAVAILABLE — ${err.code ?? err.name}: ${err.message}`);
    if (err.hint) console.log(`hint: ${err.hint}`);
    return 2;
  }
  const bi = backendInfo('gpu');
  console.log(`gpu backend: kernel class ${info.kernelClass}, mode ${info.mode}, gpu.js precision '${info.precision}', compute ${bi.precision}`);
  console.log(`renderer: ${info.renderer ?? '(not GL)'}; highp float mantissa bits: ${info.shaderFloatBits ?? 'n/a'}; max texture size: ${info.maxTextureSize ?? 'n/a'}`);
  for (const note of bi.notes ?? []) console.log(`note: ${note}`);

  const rt = (findBackend('gpu') as GpuBackend).runtime;
  console.log(`\nmatmul f32 (N×N)·(N×N), ${info.onGl && info.precision === 'single' ? 'tiled' : 'naive (the tiled kernel needs GL float textures)'} kernel, read-back included:`);
  for (const n of opts.sizes) {
    const host = new Float32Array(n * n).map((_, k) => Math.sin(k));
    const a = uploadStorage(rt, host, 'f32');
    const v = { storage: a, shape: [n, n], strides: [n, 1], offset: 0 };
    const warm = matmul(rt, v, v, 'tiled') as GpuStorage;
    readStorage(rt, warm);
    warm.release();
    const t0 = performance.now();
    let reps = 0;
    do {
      const c = matmul(rt, v, v, 'tiled') as GpuStorage;
      readStorage(rt, c);
      c.release();
      reps++;
    } while (performance.now() - t0 < 1000);
    const s = (performance.now() - t0) / 1000 / reps;
    console.log(`  N=${String(n).padStart(4)}: ${((2 * n ** 3) / s / 1e9).toFixed(2)} GFLOP/s (${reps} reps)`);
    a.release();
  }

  if (opts.skipConformance) return 0;
  const t0 = performance.now();
  const report = runConformance('gpu');
  console.log(`\nconformance on gpu: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  for (const r of report.results) if (r.status !== 'pass') console.log(`  ${r.status}: ${r.name} — ${r.reason}`);
  if (report.uncovered.length > 0) console.log(`  kernels not covered: ${report.uncovered.join(', ')}`);
  display?.stop();
  return report.failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
