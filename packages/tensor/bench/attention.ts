// Attention forward+backward (B=8, H=4, T=128, D=32, causal): the fused kernel vs the unfused composition, same run.
//
// Run: pnpm bench:attention (builds with tsup, runs with node). Flags: --rounds R (default 5, best kept:
// the machine is shared), --threads N (wasm GEMM threads when the wasm kernels are in use).
import { useJsKernels, useWasmKernels, attention, backendInfo, createRng, full, matmul, noGrad, randn, scope, softmax, type Tensor } from '../src/index';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const rounds = flag('--rounds', 5);
if (argv.includes('--js')) useJsKernels();
else useWasmKernels({ threads: flag('--threads', 2) });
const [B, H, T, D] = [8, 4, 128, 32];

const rng = createRng(0);
const q = randn([B, H, T, D], { rng, requiresGrad: true });
const k = randn([B, H, T, D], { rng, requiresGrad: true });
const v = randn([B, H, T, D], { rng, requiresGrad: true });
const seed = randn([B, H, T, D], { rng });
const maskData = new Float32Array(T * T);
for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -Infinity;
const mask = full([T, T], 0);
mask.write(maskData);

// softmax(q·kᵀ/√D + mask)·v as separate ops: the (B, H, T, T) probabilities are materialized and saved.
function unfused(): Tensor {
  const scores = matmul(q, k, { transB: true }).mul(1 / Math.sqrt(D)).add(mask);
  return matmul(softmax(scores, -1), v);
}
const fused = (): Tensor => attention(q, k, v, { causal: true });

function step(fn: () => Tensor): number {
  const t0 = performance.now();
  scope(() => {
    fn().backward(seed);
  });
  const ms = performance.now() - t0;
  for (const x of [q, k, v]) x.zeroGrad();
  return ms;
}

const diff = noGrad(() => {
  const a = fused().data();
  const b = unfused().data();
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
});

step(fused);
step(unfused);
let bestFused = Infinity;
let bestUnfused = Infinity;
for (let r = 0; r < rounds; r++) {
  bestFused = Math.min(bestFused, step(fused));
  bestUnfused = Math.min(bestUnfused, step(unfused));
}
const info = backendInfo();
console.log(`attention fwd+bwd B=${B} H=${H} T=${T} D=${D} causal — backend ${info.name} (${info.mode}, ${info.threads ?? 1} thread(s)), best of ${rounds}`);
console.log(`  fused (tiled online softmax, own backward): ${bestFused.toFixed(1)} ms`);
console.log(`  unfused (matmul + mask + softmax + matmul): ${bestUnfused.toFixed(1)} ms  (anchor)`);
console.log(`  speed-up fused vs unfused: ${(bestUnfused / bestFused).toFixed(2)}×   max |Δ| of outputs: ${diff.toExponential(2)}`);
process.exit(0); // NOTE: idle wasm workers must not hold the process open
