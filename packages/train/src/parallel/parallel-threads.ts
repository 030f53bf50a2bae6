// Runs a whole parallel training job in worker threads of this process (the threads backend behind `lmkit train --backend threads`).
import { isMainThread } from 'node:worker_threads';
import { LmkitError } from '@lmkit/core';
import { createModel, type DecoderLM, type ModelConfig } from '@lmkit/model';
import { openTokenDataset } from '../data/token-dataset.js';
import { TrainError } from '../errors.js';
import { causalLm } from '../objectives/causal-lm.js';
import type { AdamWOptions } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { ScheduleOptions } from '../schedule/lr-schedule.js';
import type { Precision } from '../trainer.js';
import { joinThreadGroup, spawnThreads } from './comm/threads.js';
import { CommError } from './communicator.js';
import { parseParallelSpec, worldSizeOf, type ParallelSpec } from './parallel-spec.js';
import { runParallelTraining, type ParallelStepRecord, type ParallelTrainingResult } from './parallel-training.js';

/** Options for {@link runParallelThreads}; plain data, since each worker thread receives a copy. */
export interface ParallelThreadsOptions {
  /** The split, as text ('dp=2') or parsed. Required. */
  spec: string | ParallelSpec;
  /** Model config (Hugging Face fields); each rank builds it, rank 0's weights are broadcast. Required. */
  modelConfig: ModelConfig;
  /** Token shard directory. Required. */
  dataDir: string;
  /** Optimizer steps. Required. */
  steps: number;
  /** Global batch size. Default 8. */
  batchSize?: number;
  /** Sequence length. Default 128. */
  seqLen?: number;
  /** LR schedule. Default cosine, maxLr 3e-4. */
  schedule?: Partial<ScheduleOptions>;
  /** AdamW hyperparameters. */
  optimizer?: AdamWOptions;
  /** Gradient clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** Model init and data seed. Default 1337. */
  seed?: number;
  /** A rank waiting longer than this for a peer fails. Default 120 000 ms. */
  timeoutMs?: number;
  /** 'fp32', 'bf16' or 'fp16' (dp and ZeRO only). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** Rank 0 writes `outDir/checkpoint` here (see runParallelTraining). */
  outDir?: string;
  /** Continue from `outDir/checkpoint`. Default false. */
  resume?: boolean;
  /** Also checkpoint every this many steps; 0 = only at the end. Default 0. */
  checkpointEvery?: number;
  /** Stop every rank after the same step once about this many seconds have passed. */
  timeBudgetSeconds?: number;
}

/** What each rank hands back: its per-step losses and records (the parameters only from rank 0, to keep copies down). */
export type ThreadRankResult = Omit<ParallelTrainingResult, 'parameters'> & { rank: number; losses: number[]; records: ParallelStepRecord[]; parameters?: Map<string, Float32Array> };

/**
 * Trains with `spec` in dp·pp·tp worker threads of this process (threads backend): each thread
 * builds the model, opens the shards and runs {@link runParallelTraining}. Resolves with every
 * rank's result (rank 0's includes the trained parameters). Must run from the built package
 * (dist), since each worker imports the module this function lives in.
 *
 * @example
 * const [r0] = await runParallelThreads({ spec: 'dp=2,zero=2', modelConfig: getPreset('tiny'), dataDir: 'shards', steps: 100 });
 */
export async function runParallelThreads(options: ParallelThreadsOptions): Promise<ThreadRankResult[]> {
  const spec = typeof options.spec === 'string' ? parseParallelSpec(options.spec) : options.spec;
  const here = import.meta.url;
  if (!here.endsWith('.js') && !here.endsWith('.mjs')) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `runParallelThreads must run from built JavaScript, but this module is ${here}`, { hint: 'build @lmkit/train (npx tsup) or bundle your entry; under vitest use runInProcess' });
  }
  // NOTE: each worker imports this same module file and calls threadRankMain(); the URL is inlined as a string.
  // NOTE: an error is rethrown uncaught so the worker's 'error' event carries it (code, hint and details survive the copy).
  const source = `import(${JSON.stringify(here)}).then((m) => m.threadRankMain()).catch((e) => { throw e; });`;
  const entry = new URL(`data:text/javascript,${encodeURIComponent(source)}`);
  return spawnThreads<ThreadRankResult>(entry, worldSizeOf(spec), { data: { ...options, spec }, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }).catch((error: unknown) => {
    const e = error as Partial<LmkitError> & Error;
    // A worker's TrainError arrives as a plain Error with its fields: give it back its class.
    if (!(e instanceof LmkitError) && typeof e.code === 'string' && e.code.startsWith('TRAIN_')) {
      throw new TrainError(e.code as `TRAIN_${string}`, e.message, { ...(e.hint ? { hint: e.hint } : {}), ...(e.details ? { details: e.details } : {}) });
    }
    throw error;
  });
}

/** Worker-thread side of {@link runParallelThreads} (exported so the worker can find it; not for direct use). */
export async function threadRankMain(): Promise<void> {
  if (isMainThread) throw new CommError('TRAIN_COMM_BAD_ARGS', 'threadRankMain() runs inside a worker started by runParallelThreads()');
  const { comm, rank, data, finish } = joinThreadGroup<ParallelThreadsOptions & { spec: ParallelSpec }>();
  const records: ParallelStepRecord[] = [];
  const model = createModel(data.modelConfig, { seed: data.seed ?? 1337 }) as DecoderLM;
  const result = await runParallelTraining({
    comm, spec: data.spec, model, dataset: await openTokenDataset(data.dataDir), objective: causalLm(), steps: data.steps,
    ...(data.batchSize ? { batchSize: data.batchSize } : {}), ...(data.seqLen ? { seqLen: data.seqLen } : {}),
    ...(data.schedule ? { schedule: data.schedule } : {}), ...(data.optimizer ? { optimizer: data.optimizer } : {}),
    ...(data.gradClip !== undefined ? { gradClip: data.gradClip } : {}), ...(data.seed !== undefined ? { seed: data.seed } : {}),
    ...(data.precision ? { precision: data.precision } : {}), ...(data.lossScaler ? { lossScaler: data.lossScaler } : {}),
    ...(data.outDir ? { outDir: data.outDir } : {}), ...(data.resume ? { resume: true } : {}),
    ...(data.checkpointEvery ? { checkpointEvery: data.checkpointEvery } : {}), ...(data.timeBudgetSeconds ? { timeBudgetSeconds: data.timeBudgetSeconds } : {}),
    onStep: (r) => records.push(r),
  });
  const { parameters, ...rest } = result;
  finish({ ...rest, rank, losses: records.map((r) => r.loss), records, ...(rank === 0 ? { parameters } : {}) });
  await comm.close();
}
