// GPTQ calibration time on a gpt2-124m-shaped model (random weights), split by part: forward passes, H sums, factorization, column sweep.
import { cpus } from 'node:os';
import { DecoderLM, getPreset, type ModelConfig } from '@lmkit/model';
import { backendInfo, createRng } from '@lmkit/tensor';
import { gptqQuantize } from '../src/index.js';
import { addGramUpper, inverseHessianFactor, mirrorUpper } from '../src/quant/gptq-hessian.js';
import { referenceInvertUpper, referenceUpperCholesky } from '../src/quant/internal/gptq-reference.js';

/** `--name value` from the command line, or the default. */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const layers = arg('layers', 12);
const samples = arg('samples', 32);
const seqLen = arg('seq-len', 256);
const format = process.argv.includes('--q8_0') ? 'q8_0' : 'q4_0';
const quick = process.argv.includes('--quick');

const s = (ms: number) => `${(ms / 1000).toFixed(1).padStart(7)} s`;
const rng = createRng(2);

if (!process.argv.includes('--anchor-only')) {
  const config = { ...getPreset('gpt2-124m'), n_layer: layers } as ModelConfig;
  const model = new DecoderLM(config, { seed: 1 });
  const vocab = model.spec.realVocabSize;
  const ids = Int32Array.from({ length: 200_000 }, () => rng.int(vocab));

  console.log(`gptq bench: gpt2-124m shape, ${layers} block(s), ${format}, calibration ${samples} × ${seqLen} tokens; ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), tensor ${backendInfo().mode}`);
  const result = gptqQuantize(model, ids, { format, samples, seqLen, progress: 'silent' });
  const t = result.timings;
  const other = t.totalMs - t.forwardMs - t.hessianMs - t.factorMs - t.sweepMs;
  console.log(`forward passes   ${s(t.forwardMs)}`);
  console.log(`H = 2XXᵀ/n sums  ${s(t.hessianMs)}`);
  console.log(`factor (H⁻¹)     ${s(t.factorMs)}`);
  console.log(`column sweep     ${s(t.sweepMs)}`);
  console.log(`other            ${s(other)}`);
  console.log(`total            ${s(t.totalMs)}  (${result.layers.length} matrices)`);
  for (const l of result.layers) console.log(`  ${l.name.padEnd(22)} ${l.rows}×${l.cols} loss ${l.loss.toExponential(3)}`);
}

/** An (n, n) Hessian 2XᵀX/t of correlated random inputs, from the f32 GEMM (only its conditioning matters here). */
function randomHessian(n: number, tokens: number): Float64Array {
  const x = new Float32Array(tokens * n);
  for (let t = 0; t < tokens; t++) {
    const shared = rng.normal();
    for (let i = 0; i < n; i++) x[t * n + i] = (i % 17 === 0 ? 8 : 1) * (0.5 * shared + rng.normal());
  }
  const h = new Float64Array(n * n);
  addGramUpper(h, x, tokens, n);
  for (let i = 0; i < h.length; i++) h[i] *= 2 / tokens;
  mirrorUpper(h, n);
  return h;
}

// Anchor, side by side: the blocked GEMM factorization against the scalar Float64 one GPTQ used first.
console.log('\nfactor H⁻¹ = UᵀU: blocked f32-GEMM vs scalar Float64 reference (anchor), same H');
inverseHessianFactor(randomHessian(256, 512), 256, 0.01); // warm-up: the WASM GEMM starts its threads on first use
for (const n of quick ? [768] : [768, 3072]) {
  const h = randomHessian(n, 2 * n);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += h[i * n + i] / n;
  const damped = Float64Array.from(h);
  for (let i = 0; i < n; i++) damped[i * n + i] += 0.01 * mean;
  let t0 = performance.now();
  const ref = referenceInvertUpper(referenceUpperCholesky(damped, n)!, n);
  const refMs = performance.now() - t0;
  t0 = performance.now();
  const { u } = inverseHessianFactor(h, n, 0.01);
  const newMs = performance.now() - t0;
  let err = 0;
  let max = 0;
  for (let i = 0; i < u.length; i++) (err = Math.max(err, Math.abs(u[i] - ref[i]))), (max = Math.max(max, Math.abs(ref[i])));
  console.log(`  n = ${String(n).padEnd(5)} reference ${s(refMs)}   blocked ${s(newMs)}   ${(refMs / newMs).toFixed(1)}× faster   max |ΔU| / max |U| = ${(err / max).toExponential(1)}`);
}
