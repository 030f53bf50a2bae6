// Runs a whole parallel training job in worker threads of this process (the threads backend behind `lmkit train --backend threads`).
import { isMainThread } from 'node:worker_threads';
import { LmkitError } from '@lmkit/core';
import { createModel, type DecoderLM, type ModelConfig } from '@lmkit/model';
import { openTokenDataset } from '../data/token-dataset.js';
import { TrainError } from '../errors.js';
import { causalLm } from '../objectives/causal-lm.js';
import { joinThreadGroup, spawnThreads } from './comm/threads.js';
import { CommError } from './communicator.js';
import { parseParallelSpec, worldSizeOf, type ParallelSpec } from './parallel-spec.js';
import { runParallelTraining, type ParallelStepRecord, type ParallelTrainingOptions, type ParallelTrainingResult } from './parallel-training.js';

/** The {@link ParallelTrainingOptions} the threads backend hands to every rank unchanged. */
type PassedOptions = 'batchSize' | 'seqLen' | 'schedule' | 'optimizer' | 'gradClip' | 'precision' | 'lossScaler' | 'outDir' | 'resume' | 'checkpointEvery' | 'timeBudgetSeconds';

/** Options for {@link runParallelThreads}; plain data but `signal`, since each worker thread receives a copy. */
export interface ParallelThreadsOptions extends Pick<ParallelTrainingOptions, PassedOptions> {
  /** The split, as text ('dp=2') or parsed. Required. */
  spec: string | ParallelSpec;
  /** Model config (Hugging Face fields); each rank builds it, rank 0's weights are broadcast. Required. */
  modelConfig: ModelConfig;
  /** Token shard directory. Required. */
  dataDir: string;
  /** Optimizer steps. Required. */
  steps: number;
  /** Model init and data seed. Default 1337. */
  seed?: number;
  /** A rank waiting longer than this for a peer fails. Default 120 000 ms. */
  timeoutMs?: number;
  /** Stop every rank after the same step and write the checkpoint (Ctrl-C); the results say `interrupted`. Default none. */
  signal?: AbortSignal;
}

/** What a worker receives: the options less the signal, which becomes a shared flag each rank reads after every step. */
type WorkerData = Omit<ParallelThreadsOptions, 'signal' | 'timeoutMs' | 'spec'> & { spec: ParallelSpec; stopFlag: Int32Array };

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
  const { signal, timeoutMs, ...passed } = options;
  // NOTE: an AbortSignal cannot cross into a worker: its abort sets a shared flag that each rank turns into its own signal.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = (): void => void Atomics.store(stopFlag, 0, 1);
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const data: WorkerData = { ...passed, spec, stopFlag };
  const ranks = spawnThreads<ThreadRankResult>(entry, worldSizeOf(spec), { data, ...(timeoutMs ? { timeoutMs } : {}) });
  return ranks.finally(() => signal?.removeEventListener('abort', onAbort)).catch((error: unknown) => {
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
  const { comm, rank, data, finish } = joinThreadGroup<WorkerData>();
  const { spec, modelConfig, dataDir, stopFlag, ...passed } = data;
  const records: ParallelStepRecord[] = [];
  const stop = new AbortController();
  const model = createModel(modelConfig, { seed: data.seed ?? 1337 }) as DecoderLM;
  const result = await runParallelTraining({
    ...passed, comm, spec, model, dataset: await openTokenDataset(dataDir), objective: causalLm(), signal: stop.signal,
    onStep: (r) => {
      records.push(r);
      if (Atomics.load(stopFlag, 0) !== 0) stop.abort(); // NOTE: read right before rank 0's stop verdict for this step
    },
  });
  const { parameters, ...rest } = result;
  finish({ ...rest, rank, losses: records.map((r) => r.loss), records, ...(rank === 0 ? { parameters } : {}) });
  await comm.close();
}
