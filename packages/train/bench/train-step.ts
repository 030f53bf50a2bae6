// Benchmark: one training step of the reference config (vocab 256, d 128, 4 layers, 4 heads, T 128, B 8),
// @lmkit/train + @lmkit/model + @lmkit/tensor against the same model in TensorFlow.js (wasm backend), side by side.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as lmTensor from '@lmkit/tensor';
import { createModel, flopsPerToken, getPreset, countParams } from '@lmkit/model';
import { AdamW, clipGradNorm, estimateMfu, fromLmkitModel, WASM_SIMD_PEAK_FLOPS_PER_CORE } from '../src/index.js';
import { createTfjsGpt } from './tfjs-gpt.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const B = 8;
const T = 128;
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const ANCHOR_STEPS = Number(process.env.BENCH_ANCHOR_STEPS ?? 3);
const peakFlops = THREADS * WASM_SIMD_PEAK_FLOPS_PER_CORE;

function batch(seed: number): { ids: Int32Array; targets: Int32Array } {
  let s = seed;
  const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 256;
  const seq = Int32Array.from({ length: B * (T + 1) }, next);
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    ids.set(seq.subarray(b * (T + 1), b * (T + 1) + T), b * T);
    targets.set(seq.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
  }
  return { ids, targets };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchLmkit(): Promise<{ ms: number; loopMs: number; loss: number; info: string }> {
  // NOTE: the WASM SIMD GEMM is opt-in; if it cannot start, backendInfo() (printed) says mode 'js' and why.
  lmTensor.useWasmKernels({ threads: THREADS });
  const model = fromLmkitModel(createModel(getPreset('tiny'), { seed: 1 }));
  const params = model.parameters();
  const opt = new AdamW(params.map((p) => ({ name: p.name, shape: p.shape, data: p.data, grad: p.grad })));
  const times: number[] = [];
  const loopTimes: number[] = [];
  let loss = NaN;
  for (let i = 0; i < STEPS + 1; i++) {
    const { ids, targets } = batch(i);
    const t0 = performance.now();
    model.zeroGrad();
    loss = model.lossAndBackward({ inputIds: ids, targets, batchSize: B, seqLen: T, targetCount: B * T }, { lossScale: 1 });
    const t1 = performance.now();
    clipGradNorm(params.map((p) => p.grad), 1);
    opt.step(3e-4);
    model.syncParameters?.();
    if (i > 0) times.push(performance.now() - t0); // step 0 warms up
    if (i > 0) loopTimes.push(performance.now() - t1);
  }
  return { ms: median(times), loopMs: median(loopTimes), loss, info: JSON.stringify(lmTensor.backendInfo()) };
}

async function benchTfjs(): Promise<{ ms: number; loss: number }> {
  const require = createRequire(import.meta.url);
  setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  setThreadsCount(THREADS);
  await tf.setBackend('wasm');
  await tf.ready();
  const gpt = createTfjsGpt({ vocab: 256, dModel: 128, nLayer: 4, nHead: 4, seqLen: T });
  const times: number[] = [];
  let loss = NaN;
  for (let i = 0; i < ANCHOR_STEPS + 1; i++) {
    const { ids, targets } = batch(i);
    const t0 = performance.now();
    loss = gpt.step(ids, targets, B);
    if (i > 0) times.push(performance.now() - t0);
  }
  gpt.dispose();
  return { ms: median(times), loss };
}

const spec = createModel(getPreset('tiny'), { seed: 1 }).spec;
const fpt = flopsPerToken(spec, T);
const tokens = B * T;
console.log(`reference config: vocab 256, d_model 128, 4 layers, 4 heads, T ${T}, B ${B}; ${countParams(spec)} params; ${(fpt / 1e6).toFixed(2)} MFLOP/token (train)`);
console.log(`threads ${THREADS}; MFU against a peak of ${(peakFlops / 1e9).toFixed(0)} GFLOP/s (${THREADS} × WASM SIMD128 FMA per core)`);
const ours = await benchLmkit();
console.log(`lmkit     ${ours.ms.toFixed(0)} ms/step  ${(tokens / (ours.ms / 1000)).toFixed(0)} tok/s  MFU ${(100 * estimateMfu({ flopsPerToken: fpt, tokensPerSecond: tokens / (ours.ms / 1000), peakFlops })).toFixed(2)}%  loss ${ours.loss.toFixed(3)}  backend ${ours.info}`);
console.log(`          of which clip + AdamW + weight upload: ${ours.loopMs.toFixed(1)} ms; forward + backward: ${(ours.ms - ours.loopMs).toFixed(0)} ms`);
const anchor = await benchTfjs();
console.log(`tfjs-wasm ${anchor.ms.toFixed(0)} ms/step  ${(tokens / (anchor.ms / 1000)).toFixed(0)} tok/s  MFU ${(100 * estimateMfu({ flopsPerToken: fpt, tokensPerSecond: tokens / (anchor.ms / 1000), peakFlops })).toFixed(2)}%  loss ${anchor.loss.toFixed(3)}  (Adam; tfjs has no AdamW)`);
console.log(`speed-up vs tfjs-wasm: ${(anchor.ms / ours.ms).toFixed(2)}×  (target ≥ 5×, ≤ 400 ms/step)`);
// NOTE: exit explicitly: the tfjs wasm backend's worker threads would keep the process alive.
process.exit(0);
