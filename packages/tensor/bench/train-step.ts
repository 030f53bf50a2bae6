// One training step (forward + backward) of a small GPT built from @lmkit/tensor ops: vocab 256, d 128, 4 layers, 4 heads, T 128, B 8.
//
// Run: pnpm bench:step. This is the tensor side of the model/train target (≤ 400 ms per step on 2 threads).
import { useJsKernels, useWasmKernels, attention, backendInfo, createRng, crossEntropy, embedding, fromArray, gelu, layerNorm, matmul, ones, randn, scope, zeros, type Tensor } from '../src/index';

const argv = process.argv.slice(2);
if (argv.includes('--js')) useJsKernels();
else useWasmKernels({ threads: argv.includes('--threads') ? Number(argv[argv.indexOf('--threads') + 1]) : 2 });
const [V, C, L, H, T, B] = [256, 128, 4, 4, 128, 8];
const D = C / H;
const rng = createRng(1);
const p = (shape: number[], std = 0.02): Tensor => randn(shape, { rng, std, requiresGrad: true });
const wte = p([V, C]);
const wpe = p([T, C]);
const layers = Array.from({ length: L }, () => ({
  ln1w: ones([C], { requiresGrad: true }), ln1b: zeros([C], { requiresGrad: true }),
  qkv: p([3 * C, C]), qkvb: zeros([3 * C], { requiresGrad: true }),
  proj: p([C, C]), projb: zeros([C], { requiresGrad: true }),
  ln2w: ones([C], { requiresGrad: true }), ln2b: zeros([C], { requiresGrad: true }),
  fc: p([4 * C, C]), fcb: zeros([4 * C], { requiresGrad: true }),
  fc2: p([C, 4 * C]), fc2b: zeros([C], { requiresGrad: true }),
}));
const lnfw = ones([C], { requiresGrad: true });
const lnfb = zeros([C], { requiresGrad: true });
const ids = fromArray(Int32Array.from({ length: B * T }, () => rng.int(V)), [B, T]);
const targets = fromArray(Int32Array.from({ length: B * T }, () => rng.int(V)), [B * T]);
const pos = fromArray(Int32Array.from({ length: T }, (_, i) => i), [T]);

function forward(): Tensor {
  let x = embedding(wte, ids).add(embedding(wpe, pos)); // (B, T, C)
  for (const l of layers) {
    const h = layerNorm(x, l.ln1w, l.ln1b);
    const qkv = matmul(h, l.qkv, { transB: true }).add(l.qkvb); // (B, T, 3C)
    const [q, k, v] = qkv.reshape([B, T, 3, H, D]).permute([2, 0, 3, 1, 4]).split(1, 0).map((t) => t.squeeze(0)); // (B, H, T, D)
    const y = attention(q, k, v, { causal: true }).permute([0, 2, 1, 3]).reshape([B, T, C]);
    x = x.add(matmul(y, l.proj, { transB: true }).add(l.projb));
    const h2 = layerNorm(x, l.ln2w, l.ln2b);
    x = x.add(matmul(gelu(matmul(h2, l.fc, { transB: true }).add(l.fcb)), l.fc2, { transB: true }).add(l.fc2b));
  }
  const logits = matmul(layerNorm(x, lnfw, lnfb), wte, { transB: true }); // (B, T, V), tied
  return crossEntropy(logits.reshape([B * T, V]), targets);
}

const times: Record<string, number> = {};
let best = Infinity;
for (let r = 0; r < 4; r++) {
  const t0 = performance.now();
  const loss = scope(() => {
    const l = forward();
    const t1 = performance.now();
    l.backward();
    times.forward = Math.min(times.forward ?? Infinity, t1 - t0);
    return l.item();
  });
  const ms = performance.now() - t0;
  best = Math.min(best, ms);
  if (r === 0) console.log(`loss at init ${loss.toFixed(4)} (ln 256 = ${Math.log(256).toFixed(4)})`);
}
const info = backendInfo();
console.log(`train step (V=${V}, C=${C}, L=${L}, H=${H}, T=${T}, B=${B}) on ${info.name}/${info.mode} ${info.threads ?? 1} thread(s): best ${best.toFixed(0)} ms (forward ${times.forward.toFixed(0)} ms); target ≤ 400 ms`);
process.exit(0); // NOTE: idle wasm workers must not hold the process open
