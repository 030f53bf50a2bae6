// One rank of the parallelism benchmark (a worker thread): the reference config under one strategy, timed steps, held bytes and bytes sent.
import { createModel, getPreset, type DecoderLM } from '@lmkit/model';
import { useWasmKernels } from '@lmkit/tensor';
import { causalLm } from '../src/objectives/causal-lm.js';
import { joinThreadGroup } from '../src/parallel/comm/threads.js';
import type { PipelineStrategy } from '../src/parallel/pipeline.js';
import { parseParallelSpec } from '../src/parallel/parallel-spec.js';
import { createStrategy } from '../src/parallel/parallel-training.js';
import { tensorParallel } from '../src/parallel/tensor-parallel.js';
import { SeededRng } from '../src/rng.js';

interface Job {
  spec: string;
  steps: number;
  kernelThreads: number;
  batchSize: number;
  seqLen: number;
  /** tp only: false keeps the embedding and head replicated (to measure what vocab parallelism saves). */
  vocabParallel?: boolean;
}

const { comm, rank, data, finish } = joinThreadGroup<Job>();
const wasm = useWasmKernels({ threads: data.kernelThreads });
const spec = parseParallelSpec(data.spec);
const model = createModel(getPreset('tiny'), { seed: 1 + rank }) as DecoderLM;
const strategy = data.vocabParallel === false ? await tensorParallel(comm, model, { optimizer: { lr: 3e-4 }, vocabParallel: false }) : await createStrategy(comm, model, spec, { optimizer: { lr: 3e-4 } });
const B = data.batchSize;
const T = data.seqLen;
const localB = B / spec.dp;
const rng = new SeededRng(1000 + Math.floor(rank / (spec.pp * spec.tp))); // NOTE: the model-parallel ranks of one replica read the same batch
const batch = () => {
  const w = new Int32Array(localB * (T + 1));
  for (let i = 0; i < w.length; i++) w[i] = rng.int(256);
  return causalLm().makeBatch(w, localB, T, rng);
};
const times: number[] = [];
await strategy.step([batch()], 3e-4); // warm-up (first GEMM calls, worker pool start)
comm.resetStats();
for (let s = 0; s < data.steps; s++) {
  await comm.barrier();
  const t0 = performance.now();
  await strategy.step([batch()], 3e-4);
  await comm.barrier();
  times.push(performance.now() - t0);
}
// Pipeline ranks: the last step's op intervals on a clock shared by all threads (timeOrigin differs per worker).
const tl = 'lastTimeline' in strategy ? (strategy as PipelineStrategy).lastTimeline().map((o) => ({ start: performance.timeOrigin + o.start, end: performance.timeOrigin + o.end, op: o.op })) : null;
finish({ rank, times, bytes: comm.bytesSent(), memory: strategy.memory(), wasm, timeline: tl });
