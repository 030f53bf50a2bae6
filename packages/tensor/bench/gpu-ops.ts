// Benchmark: whole ops on the gpu backend vs the cpu backend (the anchor) in the same run — attention fwd+bwd and a transformer-block step.
//
// Run: pnpm bench:gpu-ops. Flags: --rounds R (default 3, best kept: the machine is shared).
import { add, attention, backendInfo, createRng, fromArray, gelu, layerNorm, matmul, randn, scope, type Tensor } from '../src/index.js';
import { ensureDisplay, registerGpuBackend } from '../src/backends/gpu/index.js';

const argv = process.argv.slice(2);
const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 3;

/** Copies host-initialized tensors onto a backend (same values on both). */
function on(backend: string, host: Tensor, requiresGrad = true): Tensor {
  return fromArray(host.data() as Float32Array, host.shape, { backend, requiresGrad });
}

/** Best wall time (ms) of `fn` over `rounds` after one warm-up (which compiles the gpu shaders); includes reading the result back. */
function best(fn: () => number): { ms: number; firstMs: number; check: number } {
  let t0 = performance.now();
  const check = fn();
  const firstMs = performance.now() - t0;
  let ms = Infinity;
  for (let r = 0; r < rounds; r++) {
    t0 = performance.now();
    fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, firstMs, check };
}

/** Attention forward+backward (B=8, H=4, T=128, D=32, causal); returns Σ dq for cross-checking. */
function attentionCase(backend: string): () => number {
  const rng = createRng(0);
  const [b, h, t, d] = [8, 4, 128, 32];
  const q = on(backend, randn([b, h, t, d], { rng, backend: 'cpu' }));
  const k = on(backend, randn([b, h, t, d], { rng, backend: 'cpu' }));
  const v = on(backend, randn([b, h, t, d], { rng, backend: 'cpu' }));
  const seed = on(backend, randn([b, h, t, d], { rng, backend: 'cpu' }), false);
  return () => {
    scope(() => attention(q, k, v, { causal: true }).backward(seed));
    const s = (q.grad!.data() as Float32Array).reduce((p, x) => p + x, 0);
    for (const x of [q, k, v]) x.zeroGrad();
    return s;
  };
}

/** A pre-norm MLP block step on (B·T = 512, C = 256), hidden 1024: layerNorm → matmul → GELU → matmul → residual, backward. */
function blockCase(backend: string): () => number {
  const rng = createRng(1);
  const x = on(backend, randn([512, 256], { rng, backend: 'cpu' }), false);
  const w1 = on(backend, randn([256, 1024], { rng, std: 0.05, backend: 'cpu' }));
  const w2 = on(backend, randn([1024, 256], { rng, std: 0.05, backend: 'cpu' }));
  const lw = on(backend, randn([256], { rng, std: 0.1, backend: 'cpu' }));
  const seed = on(backend, randn([512, 256], { rng, backend: 'cpu' }), false);
  return () => {
    scope(() => add(x, matmul(gelu(matmul(layerNorm(x, lw, null), w1)), w2)).backward(seed));
    const s = (w1.grad!.data() as Float32Array).reduce((p, v) => p + v, 0);
    for (const p of [w1, w2, lw]) p.zeroGrad();
    return s;
  };
}

async function main(): Promise<void> {
  await ensureDisplay();
  const gpu = registerGpuBackend();
  const cpu = backendInfo('cpu');
  console.log(`gpu: ${gpu.kernelClass} (${gpu.mode}, precision ${gpu.precision}); cpu anchor: ${cpu.mode}, ${cpu.threads ?? 1} thread(s); best of ${rounds}, shared 2-core machine`);
  console.log('');
  console.log('| case | cpu ms | gpu ms (first call, with shader compiles) | gpu ms | gpu / cpu speed | Σ check cpu vs gpu |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const [label, mk] of [['attention fwd+bwd (8, 4, 128, 32) causal', attentionCase], ['MLP block fwd+bwd (512×256, hidden 1024)', blockCase]] as const) {
    const c = best(mk('cpu'));
    const g = best(mk('gpu'));
    console.log(`| ${label} | ${c.ms.toFixed(0)} | ${g.firstMs.toFixed(0)} | ${g.ms.toFixed(0)} | ${(c.ms / g.ms).toFixed(2)}× | ${c.check.toPrecision(6)} vs ${g.check.toPrecision(6)} |`);
  }
}

// NOTE: exit explicitly — the GL context and the Xvfb pipes would keep the event loop alive.
main().then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
