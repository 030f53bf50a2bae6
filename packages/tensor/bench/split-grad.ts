// Forward + backward through split for a fused qkv projection: (B=8, T=128, 3·C=384) cut in three along the last dim.
//
// Run: pnpm bench:split (bench/split-grad-vs.mjs bundles this file twice — against the working tree and against
// the code before split's gradient was summed in place, commit 8f39328^ — and runs them alternately side by side).
import { backendInfo, createRng, randn, scope, split, useWasmKernels } from '../src/index';

useWasmKernels({ threads: Number(process.env.BENCH_THREADS ?? 2) });
const [B, T, C] = [8, 128, 128];
const rng = createRng(1);
const x = randn([B, T, 3 * C], { rng, requiresGrad: true });
const seeds = [0, 1, 2].map(() => randn([B, T, C], { rng }));

function step(): number {
  const t0 = performance.now();
  scope(() => {
    const pieces = split(x, C, 2); // q, k, v: (B, T, C) views
    const loss = pieces.map((p, i) => p.mul(seeds[i]!).sum()).reduce((a, b) => a.add(b));
    loss.backward();
  });
  const ms = performance.now() - t0;
  x.zeroGrad();
  return ms;
}

let best = Infinity;
for (let r = 0; r < 40; r++) best = Math.min(best, step());
// Check: d loss / d x is the seeds laid side by side.
scope(() => {
  const pieces = split(x, C, 2);
  pieces.map((p, i) => p.mul(seeds[i]!).sum()).reduce((a, b) => a.add(b)).backward();
});
const g = x.grad!.data();
const s = seeds.map((t) => t.data());
let maxDiff = 0;
for (let i = 0; i < g.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i]! - s[Math.floor((i % (3 * C)) / C)]![Math.floor(i / (3 * C)) * C + (i % C)]!));
const info = backendInfo();
console.log(JSON.stringify({ bench: 'split-grad', shape: [B, T, 3 * C], backend: `${info.name}/${info.mode}`, threads: info.threads ?? 1, bestMs: +best.toFixed(3), maxDiff }));
