// Attention forward+backward (B=8, H=4, D=32, causal; T=128 and 512): the fused kernel vs the unfused composition, same run.
//
// Run: pnpm bench:attention (builds with tsup, runs with node). Flags: --rounds R (default 5, best kept:
// the machine is shared), --threads N (wasm GEMM threads when the wasm kernels are in use).
import { attention, backendInfo, createRng, full, matmul, noGrad, randn, scope, softmax, useJsKernels, useWasmKernels, type Tensor } from '../src/index';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const rounds = flag('--rounds', 5);
if (argv.includes('--js')) useJsKernels();
else useWasmKernels({ threads: flag('--threads', 2) });
const [B, H, D] = [8, 4, 32];

/** Times fused and unfused attention fwd+bwd at sequence length T; returns best ms of each and max |Δ|. */
function measure(T: number): { fused: number; unfused: number; diff: number } {
  const rng = createRng(T);
  const q = randn([B, H, T, D], { rng, requiresGrad: true });
  const k = randn([B, H, T, D], { rng, requiresGrad: true });
  const v = randn([B, H, T, D], { rng, requiresGrad: true });
  const seed = randn([B, H, T, D], { rng });
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -Infinity;
  const mask = full([T, T], 0);
  mask.write(maskData);
  // softmax(q·kᵀ/√D + mask)·v as separate ops: the (B, H, T, T) probabilities are materialized and saved.
  const unfused = (): Tensor => matmul(softmax(matmul(q, k, { transB: true }).mul(1 / Math.sqrt(D)).add(mask), -1), v);
  const fused = (): Tensor => attention(q, k, v, { causal: true });
  const step = (fn: () => Tensor): number => {
    const t0 = performance.now();
    scope(() => {
      fn().backward(seed);
    });
    const ms = performance.now() - t0;
    for (const x of [q, k, v]) x.zeroGrad();
    return ms;
  };
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
  return { fused: bestFused, unfused: bestUnfused, diff };
}

const info = backendInfo();
console.log(`attention fwd+bwd, B=${B} H=${H} D=${D}, causal — backend ${info.name} (${info.mode}, ${info.threads ?? 1} thread(s)), best of ${rounds}`);
console.log('    T | fused (tiled online softmax) | unfused anchor (matmul+mask+softmax+matmul) | fused speed-up | max |Δ|');
for (const T of [128, ...(argv.includes('--quick') ? [] : [512])]) {
  const r = measure(T);
  console.log(`${String(T).padStart(5)} | ${r.fused.toFixed(1).padStart(25)} ms | ${r.unfused.toFixed(1).padStart(41)} ms | ${(r.unfused / r.fused).toFixed(2).padStart(13)}× | ${r.diff.toExponential(1)}`);
}
process.exit(0); // NOTE: idle wasm workers must not hold the process open
