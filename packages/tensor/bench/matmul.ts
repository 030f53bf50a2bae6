// Side-by-side f32 matmul benchmark: our WebAssembly SIMD kernels (1 and 2 threads) against tfjs-wasm and onnxruntime-node.
//
// Run: pnpm bench (builds this file with tsup, then runs it with node).
// Flags: --rounds R (default 3: every cell is measured R times, interleaved, and the best kept —
// the machine is shared, so the best is the least disturbed), --min-ms T (time per measurement, default 200),
// --quick (sizes 128 and 256 only).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-node';
import { allocF32, freeF32, initWasmKernels, setThreads, sgemm, wasmInfo } from '../src/backends/wasm/index';
import { matmulModel } from './matmul-onnx';

/** One benchmark row: C (batch × m × n) = op(A)·op(B). */
interface Case {
  label: string;
  m: number;
  n: number;
  k: number;
  batch: number;
  transA: boolean;
  transB: boolean;
}

/** A contender: prepares operands for a case and returns a function that runs one product. */
interface Contender {
  name: string;
  prepare(c: Case, a: Float32Array, b: Float32Array): Promise<{ run: () => unknown; result: () => Promise<Float32Array>; dispose: () => void }>;
}

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const rounds = flag('--rounds', 3);
const minMs = flag('--min-ms', 200);
const sizes = argv.includes('--quick') ? [128, 256] : [128, 256, 512, 1024];

const square = (n: number): Case => ({ label: `${n}³`, m: n, n, k: n, batch: 1, transA: false, transB: false });
const cases: Case[] = [
  ...sizes.map(square),
  { label: '512³ A·Bᵀ', m: 512, n: 512, k: 512, batch: 1, transA: false, transB: true },
  { label: '512³ Aᵀ·B', m: 512, n: 512, k: 512, batch: 1, transA: true, transB: false },
  { label: '32×(128×64·64×128)', m: 128, n: 128, k: 64, batch: 32, transA: false, transB: false },
  { label: '32×(128×64·(128×64)ᵀ)', m: 128, n: 128, k: 64, batch: 32, transA: false, transB: true },
  { label: '1×1024·(4096×1024)ᵀ', m: 1, n: 4096, k: 1024, batch: 1, transA: false, transB: true },
];

/** Stored (rows × cols) of one operand, per batch item. */
const dimsA = (c: Case): [number, number] => (c.transA ? [c.k, c.m] : [c.m, c.k]);
const dimsB = (c: Case): [number, number] => (c.transB ? [c.n, c.k] : [c.k, c.n]);

/** Our kernels; `inPlace` keeps the operands in the shared memory (allocF32), else plain arrays are copied in and out per call. */
function ours(threads: number, inPlace = true): Contender {
  return {
    name: `ours ${threads}T${inPlace ? '' : ' copying'}`,
    async prepare(c, a, b) {
      await setThreads(threads);
      const alloc = inPlace ? allocF32 : (n: number) => new Float32Array(n);
      const wa = alloc(a.length);
      const wb = alloc(b.length);
      const wc = alloc(c.batch * c.m * c.n);
      wa.set(a);
      wb.set(b);
      const args = { m: c.m, n: c.n, k: c.k, a: wa, b: wb, c: wc, transA: c.transA, transB: c.transB, batch: c.batch };
      return {
        run: () => sgemm(args),
        result: async () => {
          sgemm(args);
          return wc.slice();
        },
        dispose: () => {
          if (inPlace) [wa, wb, wc].forEach(freeF32);
        },
      };
    },
  };
}

const tfjs: Contender = {
  name: 'tfjs-wasm 1T',
  async prepare(c, a, b) {
    const shape = (d: [number, number]): number[] => (c.batch > 1 ? [c.batch, ...d] : d);
    const ta = tf.tensor(a, shape(dimsA(c)));
    const tb = tf.tensor(b, shape(dimsB(c)));
    return {
      run: () => tf.matMul(ta, tb, c.transA, c.transB).dispose(),
      result: async () => {
        const y = tf.matMul(ta, tb, c.transA, c.transB);
        const data = (await y.data()) as Float32Array;
        y.dispose();
        return data;
      },
      dispose: () => {
        ta.dispose();
        tb.dispose();
      },
    };
  },
};

const sessions = new Map<string, ort.InferenceSession>();
const onnx: Contender = {
  name: 'onnxruntime 1T',
  async prepare(c, a, b) {
    const key = `${c.transA}${c.transB}${c.batch > 1}`;
    let session = sessions.get(key);
    if (!session) {
      const model = matmulModel({ transA: c.transA, transB: c.transB, batched: c.batch > 1 });
      session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
      sessions.set(key, session);
    }
    const s = session;
    const shape = (d: [number, number]): number[] => (c.batch > 1 ? [c.batch, ...d] : d);
    const feeds = { A: new ort.Tensor('float32', a, shape(dimsA(c))), B: new ort.Tensor('float32', b, shape(dimsB(c))) };
    return {
      run: () => s.run(feeds),
      result: async () => (await s.run(feeds)).Y.data as Float32Array,
      dispose: () => undefined,
    };
  },
};

/** Seconds per call: calls `run` until `minMs` has passed and divides (awaiting when it returns a promise). */
async function secondsPerCall(run: () => unknown): Promise<number> {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    const r = run();
    if (r instanceof Promise) await r;
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / 1000 / calls;
}

function random(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  // NOTE: single-threaded tfjs-wasm, the anchor the targets are stated against.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  process.stderr.write('starting tfjs-wasm… ');
  await tf.setBackend('wasm');
  await tf.ready();
  process.stderr.write('our kernels… ');
  await initWasmKernels({ threads: 2 });
  process.stderr.write('ready\n');
  const info = wasmInfo();
  console.log(`ours: relaxed SIMD ${info.relaxedSimd ? 'on (f32x4.relaxed_madd)' : 'off (mul + add)'}, threads ready ${info.threadsReady}`);
  console.log(`tfjs ${tf.version_core} backend ${tf.getBackend()}; onnxruntime-node ${ort.env.versions.node}; node ${process.version}`);
  console.log(`best of ${rounds} rounds × ${minMs} ms per cell; GFLOP/s (higher is better)\n`);

  const contenders = [ours(1), ours(2), tfjs, onnx, ours(1, false)];
  const best = cases.map(() => contenders.map(() => 0));
  const maxDiff = cases.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (const [ci, c] of cases.entries()) {
      const a = random(c.batch * c.m * c.k, 1 + ci);
      const b = random(c.batch * c.k * c.n, 100 + ci);
      const flops = 2 * c.batch * c.m * c.n * c.k;
      let reference: Float32Array | undefined;
      for (const [ki, contender] of contenders.entries()) {
        process.stderr.write(`\rround ${round + 1}/${rounds}: ${c.label}, ${contender.name}          `);
        const prepared = await contender.prepare(c, a, b);
        const out = await prepared.result(); // also the warm-up call
        if (round === 0) {
          if (!reference) reference = out;
          else for (let i = 0; i < out.length; i++) maxDiff[ci] = Math.max(maxDiff[ci], Math.abs(out[i] - reference[i]));
        }
        const seconds = await secondsPerCall(prepared.run);
        best[ci][ki] = Math.max(best[ci][ki], flops / seconds / 1e9);
        prepared.dispose();
      }
    }
    
  }

  process.stderr.write('\n');
  const header = ['case', ...contenders.map((k) => k.name), 'ours 1T / tfjs', '2T / 1T', 'ours 1T / ort', 'max |diff| vs ours 1T'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const [ci, c] of cases.entries()) {
    const [o1, o2, t, x] = best[ci];
    // (the last column, ours copying plain arrays, prints as measured)
    const cells = [c.label, ...best[ci].map((g) => g.toFixed(1)), `${(o1 / t).toFixed(2)}×`, `${(o2 / o1).toFixed(2)}×`, `${(o1 / x).toFixed(2)}×`, maxDiff[ci].toExponential(1)];
    console.log(`| ${cells.join(' | ')} |`);
  }
  for (const s of sessions.values()) await s.release();
}

await main();
