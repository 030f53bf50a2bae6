// Decode-step attention (gpt2-124m shape: 12 layers × 12 heads, D = 64, one query row, K/V strided in a 1024-slot cache): the small-T path vs the tiled kernel and vs explicit matmul+softmax+matmul, same run.
//
// Run: pnpm bench:decode-attention (builds with tsup, runs with node). Flags: --rounds R (default 3 per interleaved pass, 3 passes, best kept:
// the machine is shared), --threads N (wasm threads, default 2), --js (the JS kernels).
import { attention, backendInfo, createRng, matmul, mul, noGrad, randn, scope, slice, softmax, useJsKernels, useWasmKernels, type Tensor } from '../src/index';
import { setAttentionDecodePath } from '../src/backends/cpu/kernels/attention';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const rounds = flag('--rounds', 3);
if (argv.includes('--js')) useJsKernels();
else useWasmKernels({ threads: flag('--threads', 2) });
const [LAYERS, H, D, CAPACITY] = [12, 12, 64, 1024];
const rng = createRng(7);
// One cache per layer, as in a model: 12 × 2 × 3 MiB, so K/V stream from memory rather than sit in cache.
const kCaches = Array.from({ length: LAYERS }, () => randn([1, H, CAPACITY, D], { rng }));
const vCaches = Array.from({ length: LAYERS }, () => randn([1, H, CAPACITY, D], { rng }));
const q = randn([1, H, 1, D], { rng });

type Path = 'small-T' | 'tiled' | 'explicit';

// One attention call: the fused op (small-T or tiled kernel), or scores = q·kᵀ·scale, softmax, ·v as three ops.
function call(path: Path, k: Tensor, v: Tensor, s: number): Tensor {
  if (path !== 'explicit') return attention(q, k, v, { causal: true, positionOffset: s - 1 });
  return matmul(softmax(mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(D)), -1), v);
}

/** ms of one decode step's attention (LAYERS calls) over S cached keys, best of `rounds`; and the output. */
function step(s: number, path: Path): { ms: number; out: Float32Array } {
  setAttentionDecodePath(path === 'small-T');
  let best = Infinity;
  let out = new Float32Array(0) as Float32Array;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    noGrad(() => scope(() => {
      for (let l = 0; l < LAYERS; l++) {
        const o = call(path, slice(kCaches[l], 2, 0, s), slice(vCaches[l], 2, 0, s), s);
        if (l === LAYERS - 1) out = Float32Array.from(o.data() as Float32Array);
      }
    }));
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, out };
}

const info = backendInfo();
console.log(`decode-step attention, ${LAYERS} layers × H=${H}, D=${D}, T=1, K/V strided in a ${CAPACITY}-slot cache — backend ${info.name} (${info.mode}, ${info.threads ?? 1} thread(s)), best of ${rounds}`);
console.log(`K/V read per step at S keys: ${((LAYERS * 2 * H * D * 4) / 1e6).toFixed(3)}·S MB`);
console.log('    S | small-T ms/step | tiled anchor ms | speed-up | explicit anchor ms | speed-up | GB/s of K/V (small-T) | max |Δ| vs tiled, explicit');
const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
for (const s of [128, 513, 640, 1024]) {
  for (const path of ['small-T', 'tiled', 'explicit'] as const) step(s, path);
  const none = (): { ms: number; out: Float32Array } => ({ ms: Infinity, out: new Float32Array(0) });
  const best = { 'small-T': none(), tiled: none(), explicit: none() };
  // Interleaved: each round times every path once (the machine is shared and its load drifts).
  for (let r = 0; r < 3; r++) {
    for (const path of ['small-T', 'tiled', 'explicit'] as const) {
      const m = step(s, path);
      if (m.ms < best[path].ms) best[path] = m;
    }
  }
  const fast = best['small-T'];
  const gbs = (LAYERS * 2 * H * s * D * 4) / (fast.ms * 1e6);
  const cells = [fast.ms.toFixed(2).padStart(15), best.tiled.ms.toFixed(2).padStart(15), `${(best.tiled.ms / fast.ms).toFixed(2)}×`.padStart(8),
    best.explicit.ms.toFixed(2).padStart(18), `${(best.explicit.ms / fast.ms).toFixed(2)}×`.padStart(8), gbs.toFixed(2).padStart(21)];
  console.log(`${String(s).padStart(5)} | ${cells.join(' | ')} | ${maxDiff(fast.out, best.tiled.out).toExponential(1)}, ${maxDiff(fast.out, best.explicit.out).toExponential(1)}`);
}
setAttentionDecodePath(true);
process.exit(0);
