// Runs one rank of a parallel training job: builds the strategy from a ParallelSpec, feeds it its data, and reports throughput, memory and traffic.
import type { DecoderLM } from '@lmkit/model';
import type { TokenDataset } from '../data/token-dataset.js';
import { WindowSampler } from '../data/window-sampler.js';
import { fromLmkitModel } from '../lmkit-model.js';
import type { Objective } from '../objectives/objective.js';
import type { AdamWOptions } from '../optim/adamw.js';
import { SeededRng } from '../rng.js';
import { createSchedule, type ScheduleOptions } from '../schedule/lr-schedule.js';
import { CommError, type Communicator } from './communicator.js';
import { dataParallelDecoder } from './data-parallel-overlap.js';
import { worldSizeOf, type ParallelSpec } from './parallel-spec.js';
import { pipelineParallel } from './pipeline.js';
import type { MemoryReport, ParallelStrategy } from './strategy.js';
import { tensorParallel } from './tensor-parallel.js';
import { zero } from './zero.js';
import { fullyShardedDecoder } from './zero3.js';

/** Strategy options shared by every kind. */
export interface StrategyOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
}

/** Builds the strategy `spec` asks for on `comm` (whose size must be dp·pp·tp). */
export async function createStrategy(comm: Communicator, model: DecoderLM, spec: ParallelSpec, strategyOptions: StrategyOptions = {}): Promise<ParallelStrategy> {
  const options: StrategyOptions = { optimizer: strategyOptions.optimizer, gradClip: strategyOptions.gradClip };
  if (worldSizeOf(spec) !== comm.worldSize) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `parallel spec dp=${spec.dp},pp=${spec.pp},tp=${spec.tp} needs ${worldSizeOf(spec)} ranks, the group has ${comm.worldSize}`, { hint: 'launch dp·pp·tp processes (lmkit launch --nproc N)' });
  }
  const k = spec.pp * spec.tp;
  if (k > 1 && spec.dp > 1) {
    // 2D, Megatron rank order: rank = dpRank·k + mpRank. Same start everywhere first, then the two groups.
    for (const [, t] of model.namedParameters()) {
      const host = Float32Array.from(t.data() as Float32Array);
      await comm.broadcast(host, 0);
      t.write(host);
    }
    const dpRank = Math.floor(comm.rank / k);
    const mpRank = comm.rank % k;
    const modelGroup = comm.split(Array.from({ length: k }, (_, j) => dpRank * k + j), `mp${dpRank}`);
    const dpGroup = comm.split(Array.from({ length: spec.dp }, (_, d) => d * k + mpRank), `dp${mpRank}`);
    return spec.pp > 1
      ? pipelineParallel(modelGroup, model, { schedule: spec.schedule, microBatches: spec.microBatches, ...options, dataParallel: dpGroup })
      : tensorParallel(modelGroup, model, { ...options, dataParallel: dpGroup });
  }
  if (spec.pp > 1) return pipelineParallel(comm, model, { schedule: spec.schedule, microBatches: spec.microBatches, ...options });
  if (spec.tp > 1) return tensorParallel(comm, model, options);
  if (spec.zero === 3) return fullyShardedDecoder(comm, model, options);
  if (spec.zero === 1 || spec.zero === 2) return zero(comm, fromLmkitModel(model), { stage: spec.zero, ...options });
  return dataParallelDecoder(comm, model, options); // NOTE: DDP with buckets launched during backward
}

/** Options for {@link runParallelTraining}. */
export interface ParallelTrainingOptions extends StrategyOptions {
  /** This rank's communicator (threads or tcp). Required. */
  comm: Communicator;
  /** The split. Required. */
  spec: ParallelSpec;
  /** The model; every rank builds the same config (rank 0's weights are broadcast). Required. */
  model: DecoderLM;
  /** Token shards. Required. */
  dataset: TokenDataset;
  /** The objective (causalLm() for decoders). Required. */
  objective: Objective;
  /** Optimizer steps. Required. */
  steps: number;
  /** Global batch (sequences per step, across data-parallel ranks). Default 8. */
  batchSize?: number;
  /** Sequence length. Default 128. */
  seqLen?: number;
  /** LR schedule; totalSteps defaults to steps. Default cosine, maxLr 3e-4. */
  schedule?: Partial<ScheduleOptions>;
  /** Data seed. Default 1337. */
  seed?: number;
  /** Called after every step on every rank. */
  onStep?: (record: { step: number; loss: number; lr: number; tokensPerSecond: number; bytesSent: number }) => void;
}

/** What {@link runParallelTraining} returns on each rank. */
export interface ParallelTrainingResult {
  /** Steps run. */
  steps: number;
  /** Last loss (this rank's view; DP ranks see their own micro-batch). */
  loss: number;
  /** Global tokens per second over all steps after the first (warm-up). */
  tokensPerSecond: number;
  /** Bytes this rank holds (see MemoryReport). */
  memory: MemoryReport;
  /** Mean payload bytes this rank sent per step. */
  bytesPerStep: number;
  /** The trained parameters by name (gathered from every rank; identical on all ranks). */
  parameters: Map<string, Float32Array>;
}

/**
 * Trains with `spec` as rank `comm.rank`: data-parallel replicas sample disjoint streams (seed
 * offset by replica) and each takes batchSize/dp sequences; the pipeline or tensor ranks of one
 * replica read the same batch. Ranks are laid out as rank = dpRank·(pp·tp) + model rank.
 * Every rank must call it with the same options.
 *
 * @example
 * const comm = await tcpCommunicator(resolveDistEnv());
 * await runParallelTraining({ comm, spec: parseParallelSpec('dp=2'), model, dataset, objective: causalLm(), steps: 100 });
 */
export async function runParallelTraining(options: ParallelTrainingOptions): Promise<ParallelTrainingResult> {
  const { comm, spec, dataset, objective } = options;
  const B = options.batchSize ?? 8;
  const T = options.seqLen ?? 128;
  const seed = options.seed ?? 1337;
  if (B % spec.dp !== 0) throw new CommError('TRAIN_COMM_BAD_ARGS', `batch size ${B} does not split over dp=${spec.dp}`, { hint: 'use a batch size that is a multiple of dp' });
  const localB = B / spec.dp;
  const dpRank = spec.dp > 1 ? Math.floor(comm.rank / (spec.pp * spec.tp)) : 0; // NOTE: model-parallel ranks of one replica read the same batch
  const windowLength = objective.windowLength(T);
  const sampler = new WindowSampler(dataset.train, windowLength, { seed: seed + 7919 * dpRank, what: `${dataset.dir} (train)` });
  const rng = new SeededRng((seed ^ 0x5eed) + dpRank);
  const strategy = await createStrategy(comm, options.model, spec, options);
  const schedule = createSchedule({ ...options.schedule, totalSteps: options.schedule?.totalSteps ?? options.steps });
  comm.resetStats();
  let loss = NaN;
  let timed = 0;
  let timedSteps = 0;
  for (let step = 0; step < options.steps; step++) {
    const t0 = performance.now();
    const lr = schedule.at(step);
    const batch = objective.makeBatch(sampler.next(localB), localB, T, rng);
    loss = (await strategy.step([batch], lr)).loss;
    const dt = (performance.now() - t0) / 1000;
    if (step > 0 || options.steps === 1) {
      timed += dt;
      timedSteps++;
    }
    options.onStep?.({ step: step + 1, loss, lr, tokensPerSecond: (B * T) / dt, bytesSent: comm.bytesSent() });
  }
  const bytesPerStep = comm.bytesSent() / options.steps;
  const memory = strategy.memory();
  const parameters = await strategy.fullParameters();
  return { steps: options.steps, loss, tokensPerSecond: timedSteps > 0 ? (B * T * timedSteps) / timed : NaN, memory, bytesPerStep, parameters };
}
