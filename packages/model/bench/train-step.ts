// Benchmark: one forward + backward of the reference config (tiny preset, batch 8 × 128) against an unfused anchor.
// The anchor is the same model written with primitive ops only (explicit transposes, unfused attention,
// LayerNorm and cross-entropy from elementwise ops), measured side by side in the same run.
import { availableParallelism } from 'node:os';
import {
  add, backendInfo, createRng, div, embedding, gelu, log, useWasmKernels, matmul, mean, mul, reshape, slice, softmax, sqrt, sub, sum, tensor, transpose, contiguous, type Tensor,
} from '@lmkit/tensor';
import { DecoderLM, flopsPerToken, getPreset } from '../src/index.js';

// NOTE: both sides use the same GEMM: the WebAssembly SIMD one unless BENCH_JS_GEMM=1.
if (process.env.BENCH_JS_GEMM !== '1') useWasmKernels({ threads: Number(process.env.BENCH_THREADS ?? 2) });

const B = 8;
const T = 128;
const STEPS = Number(process.env.BENCH_STEPS ?? 5);

const model = new DecoderLM(getPreset('tiny'), { seed: 1 });
const spec = model.spec;
const rng = createRng(2);
const batch = Int32Array.from({ length: B * (T + 1) }, () => rng.int(spec.vocabSize));
const inputs = tensor(Int32Array.from({ length: B * T }, (_, i) => batch[Math.floor(i / T) * (T + 1) + (i % T)]!), [B, T], { dtype: 'i32' });
const targets = tensor(Int32Array.from({ length: B * T }, (_, i) => batch[Math.floor(i / T) * (T + 1) + (i % T) + 1]!), [B, T], { dtype: 'i32' });

/** The anchor: the same computation with primitive ops only. */
function naiveLoss(): Tensor {
  const p = model.stateDict();
  const w = (name: string): Tensor => p.get(name)!;
  const C = spec.dModel;
  const H = spec.nHead;
  const D = spec.headDim;
  const linear = (x: Tensor, name: string): Tensor => add(matmul(x, contiguous(transpose(w(`${name}.weight`), 0, 1))), w(`${name}.bias`));
  const ln = (x: Tensor, name: string): Tensor => {
    const mu = mean(x, -1, true);
    const xc = sub(x, mu);
    const v = mean(mul(xc, xc), -1, true);
    return add(mul(div(xc, sqrt(add(v, spec.normEps))), w(`${name}.weight`)), w(`${name}.bias`));
  };
  const mask = tensor(Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]);
  let x = add(embedding(w('embed.weight'), inputs), slice(w('pos.weight'), 0, 0, T)); // (B, T, C)
  for (let l = 0; l < spec.nLayer; l++) {
    const b = `blocks.${l}`;
    const qkv = linear(ln(x, `${b}.norm1`), `${b}.attn.qkv`); // (B, T, 3C)
    const heads = (i: number): Tensor => contiguous(transpose(reshape(contiguous(slice(qkv, 2, i * C, (i + 1) * C)), [B, T, H, D]), 1, 2));
    const [q, k, v] = [heads(0), heads(1), heads(2)]; // (B, H, T, D)
    const att = softmax(add(mul(matmul(q, contiguous(transpose(k, 2, 3))), 1 / Math.sqrt(D)), mask), -1);
    const o = reshape(contiguous(transpose(matmul(att, v), 1, 2)), [B, T, C]);
    x = add(x, linear(o, `${b}.attn.proj`));
    x = add(x, linear(gelu(linear(ln(x, `${b}.norm2`), `${b}.mlp.fc`), { approximate: 'tanh' }), `${b}.mlp.proj`));
  }
  const logits = reshape(matmul(ln(x, 'normF'), contiguous(transpose(w('embed.weight'), 0, 1))), [B * T, spec.vocabSize]);
  const m = softmax(logits, -1);
  const onehot = tensor(Float32Array.from({ length: B * T * spec.vocabSize }, (_, i) => ((targets.data() as Int32Array)[Math.floor(i / spec.vocabSize)] === i % spec.vocabSize ? 1 : 0)), [B * T, spec.vocabSize]);
  return mul(mean(sum(mul(log(m), onehot), -1)), -1);
}

function time(label: string, fn: () => Tensor): { ms: number; loss: number } {
  let loss = 0;
  model.zeroGrad();
  fn().backward(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) {
    model.zeroGrad();
    const l = fn();
    l.backward();
    loss = l.item();
  }
  const ms = (performance.now() - t0) / STEPS;
  console.log(`${label.padEnd(34)} ${ms.toFixed(1).padStart(8)} ms/step  ${Math.round((B * T) / (ms / 1000)).toString().padStart(7)} tok/s  loss ${loss.toFixed(4)}`);
  return { ms, loss };
}

const info = backendInfo();
console.log(`forward+backward, tiny preset (${(model.parameters().reduce((n, p) => n + p.size, 0) / 1e6).toFixed(2)}M params), B=${B} T=${T}, ${STEPS} steps, ${availableParallelism()} cores visible, cpu GEMM ${JSON.stringify(info)}`);
const ours = time('@lmkit/model DecoderLM.loss', () => model.loss(inputs, targets));
const anchor = process.env.BENCH_ANCHOR === "0" ? ours : time('anchor: primitive ops, no fusion', naiveLoss);
const gflop = (flopsPerToken(spec, T) * B * T) / 1e9;
console.log(`speed-up vs anchor: ${(anchor.ms / ours.ms).toFixed(2)}×   (${gflop.toFixed(2)} GFLOP/step → ${(gflop / (ours.ms / 1000)).toFixed(1)} GFLOP/s)`);
if (Math.abs(ours.loss - anchor.loss) > 1e-3) throw new Error(`losses differ: ${ours.loss} vs ${anchor.loss}`);
process.exit(0); // the WebAssembly worker pool would keep the process alive
