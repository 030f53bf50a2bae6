// Runs one rank of a parallel training job: builds the strategy from a ParallelSpec, feeds it its data, and reports throughput, memory and traffic.
import { join } from 'node:path';
import type { DecoderLM } from '@lmkit/model';
import { createRng, type RngState } from '@lmkit/tensor';
import { loadCheckpoint, type TrainerState } from '../checkpoint/checkpoint.js';
import { checkResume } from '../checkpoint/run-compat.js';
import type { TokenDataset } from '../data/token-dataset.js';
import { WindowSampler } from '../data/window-sampler.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { TrainError } from '../errors.js';
import { countTargets, type Objective, type ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import { SeededRng } from '../rng.js';
import { createSchedule, type ScheduleOptions } from '../schedule/lr-schedule.js';
import type { Precision } from '../trainer.js';
import { CommError, type Communicator } from './communicator.js';
import { dataParallelDecoder } from './data-parallel-overlap.js';
import { worldSizeOf, type ParallelSpec } from './parallel-spec.js';
import { zeroStageOf } from './model-parallel-optimizer.js';
import { pipelineParallel } from './pipeline.js';
import { halfFormatOf } from './internal/optimizer-step.js';
import { saveFullCheckpoint, saveWeightsOnly } from './internal/run-checkpoint.js';
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
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
}

/** Builds the strategy `spec` asks for on `comm` (whose size must be dp·pp·tp). */
export async function createStrategy(comm: Communicator, model: DecoderLM, spec: ParallelSpec, strategyOptions: StrategyOptions = {}): Promise<ParallelStrategy> {
  const options: StrategyOptions = { optimizer: strategyOptions.optimizer, gradClip: strategyOptions.gradClip };
  // NOTE: pipeline and tensor parallelism (any mix with dp) take the precision; dp-only strategies get it from dataParallelStrategy.
  const modelParallel: StrategyOptions = { ...options, precision: strategyOptions.precision, lossScaler: strategyOptions.lossScaler };
  // NOTE: ZeRO 1/2 with pp/tp shards each rank's optimizer state (and stage 2 its gradients) over its data-parallel group, as DeepSpeed's 3D does.
  const zeroStage = spec.pp * spec.tp > 1 ? zeroStageOf(spec.zero) : 0;
  if (worldSizeOf(spec) !== comm.worldSize) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `parallel spec dp=${spec.dp},pp=${spec.pp},tp=${spec.tp} needs ${worldSizeOf(spec)} ranks, the group has ${comm.worldSize}`, { hint: 'launch dp·pp·tp processes (lmkit launch --nproc N)' });
  }
  const k = spec.pp * spec.tp;
  if (k > 1 && (spec.dp > 1 || (spec.pp > 1 && spec.tp > 1))) {
    // 2D/3D, Megatron rank order: rank = dpRank·(pp·tp) + ppRank·tp + tpRank (tp innermost). Same start everywhere first,
    // then the groups: data-parallel (same model rank in every replica), and within a replica the tensor-parallel group
    // of a stage and the pipeline group linking the matching tp ranks of the stages (or the whole replica for 2D).
    for (const [, t] of model.namedParameters()) {
      const host = Float32Array.from(t.data() as Float32Array);
      await comm.broadcast(host, 0);
      t.write(host);
    }
    const dpRank = Math.floor(comm.rank / k);
    const mpRank = comm.rank % k;
    const ppRank = Math.floor(mpRank / spec.tp);
    const tpRank = mpRank % spec.tp;
    const dpGroup = spec.dp > 1 ? comm.split(Array.from({ length: spec.dp }, (_, d) => d * k + mpRank), `dp${mpRank}`) : undefined;
    if (spec.pp > 1 && spec.tp > 1) {
      const ppGroup = comm.split(Array.from({ length: spec.pp }, (_, s) => dpRank * k + s * spec.tp + tpRank), `pp${dpRank}.${tpRank}`);
      const tpGroup = comm.split(Array.from({ length: spec.tp }, (_, j) => dpRank * k + ppRank * spec.tp + j), `tp${dpRank}.${ppRank}`);
      return pipelineParallel(ppGroup, model, { schedule: spec.schedule, microBatches: spec.microBatches, partition: spec.partition, ...modelParallel, dataParallel: dpGroup, tensorParallel: tpGroup, zeroStage });
    }
    const modelGroup = comm.split(Array.from({ length: k }, (_, j) => dpRank * k + j), `mp${dpRank}`);
    return spec.pp > 1
      ? pipelineParallel(modelGroup, model, { schedule: spec.schedule, microBatches: spec.microBatches, partition: spec.partition, ...modelParallel, dataParallel: dpGroup, zeroStage })
      : tensorParallel(modelGroup, model, { ...modelParallel, dataParallel: dpGroup, zeroStage });
  }
  if (spec.pp > 1) return pipelineParallel(comm, model, { schedule: spec.schedule, microBatches: spec.microBatches, partition: spec.partition, ...modelParallel });
  if (spec.tp > 1) return tensorParallel(comm, model, modelParallel);
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
  /** Optimizer steps (the run's total, counting resumed ones). Required. */
  steps: number;
  /** Global batch (sequences per step, across data-parallel ranks). Default 8. */
  batchSize?: number;
  /** Sequence length. Default 128. */
  seqLen?: number;
  /** LR schedule; totalSteps defaults to steps. Default cosine, maxLr 3e-4. */
  schedule?: Partial<ScheduleOptions>;
  /** Data seed. Default 1337. */
  seed?: number;
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling agreed across ranks); data parallelism and ZeRO only. Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** Rank 0 writes `outDir/checkpoint` here: the single-worker trainer's format, or the weights only (not resumable) for a strategy without `exportState`. Nothing is written without it. */
  outDir?: string;
  /** Continue from `outDir/checkpoint`, written by a parallel run of any layout or by `train()`. Default false. */
  resume?: boolean;
  /** Also checkpoint every this many steps; 0 = only at the end. Default 0. */
  checkpointEvery?: number;
  /** Stop after about this many seconds: rank 0 decides after each step and broadcasts it, so every rank stops after the same step (every rank must set it; rank 0's value counts); the schedule is fitted to the steps that fit, as `train()` does. */
  timeBudgetSeconds?: number;
  /** Stop early (Ctrl-C): rank 0 checks it after each step and broadcasts the verdict with the time budget's, so every rank stops after the same step and the checkpoint is written; rank 0's signal counts. Default none. */
  signal?: AbortSignal;
  /** Called after every step on every rank. */
  onStep?: (record: ParallelStepRecord) => void;
}

/** What {@link ParallelTrainingOptions.onStep} receives. */
export interface ParallelStepRecord {
  /** Global step number (continuing a resumed run). */
  step: number;
  /** The global batch's loss: the target-weighted mean over data-parallel replicas (the single-worker trainer's loss for the same batch). */
  loss: number;
  /** Learning rate of the step. */
  lr: number;
  /** Global tokens per second of this step. */
  tokensPerSecond: number;
  /** Payload bytes this rank has sent since training started. */
  bytesSent: number;
  /** Global gradient norm before clipping (NaN when skipped). */
  gradNorm: number;
  /** True when an fp16 overflow on some rank skipped the update everywhere. */
  skipped?: boolean;
  /** fp16 loss scale after the step. */
  lossScale?: number;
}

/** What {@link runParallelTraining} returns on each rank. */
export interface ParallelTrainingResult {
  /** Global steps completed (including resumed ones). */
  steps: number;
  /** The step this run started from (0, or the checkpoint's). */
  startStep: number;
  /** True when the time budget ended the run (on every rank after the same step). */
  stoppedByTime: boolean;
  /** True when rank 0's `signal` ended the run (on every rank after the same step). */
  interrupted: boolean;
  /** Last step's global loss (the mean over every data-parallel replica's targets; the same on every rank). */
  loss: number;
  /** Global tokens per second over all steps after the first (warm-up). */
  tokensPerSecond: number;
  /** Bytes this rank holds (see MemoryReport). */
  memory: MemoryReport;
  /** Mean payload bytes this rank sent per step. */
  bytesPerStep: number;
  /** The trained (fp32 master) parameters by name (gathered from every rank; identical on all ranks). */
  parameters: Map<string, Float32Array>;
  /** The checkpoint directory, when `outDir` was given. */
  checkpointDir?: string;
  /** fp16 loss scale after the last step. */
  lossScale?: number;
}

/**
 * Trains with `spec` as rank `comm.rank`. The data is the single-worker trainer's: every rank
 * draws the global batch from one seeded stream and data-parallel replica d takes rows
 * [d·B/dp, (d+1)·B/dp) (the pipeline or tensor ranks of one replica take the same rows), so
 * dp = N trains on the same tokens as one worker with batch B, and the sampler state is one
 * state. Ranks are laid out as rank = dpRank·(pp·tp) + model rank. With `outDir`, rank 0
 * gathers the full state (masters, moments, loss scale, sampler, schedule) and writes it as
 * `train()`'s checkpoint, so a run resumes on another layout or on one worker and back.
 * Every rank must call it with the same options.
 *
 * @example
 * const comm = await tcpCommunicator(resolveDistEnv());
 * await runParallelTraining({ comm, spec: parseParallelSpec('dp=2,zero=2'), model, dataset, objective: causalLm(), steps: 100, precision: 'bf16', outDir: 'out' });
 */
export async function runParallelTraining(options: ParallelTrainingOptions): Promise<ParallelTrainingResult> {
  const { comm, spec, dataset, objective } = options;
  const B = options.batchSize ?? 8;
  const T = options.seqLen ?? 128;
  const seed = options.seed ?? 1337;
  const precision = options.precision ?? 'fp32';
  const format = halfFormatOf(precision);
  const ckptEvery = options.checkpointEvery ?? 0;
  if (!(Number.isInteger(options.steps) && options.steps > 0)) throw new TrainError('TRAIN_BAD_CONFIG', `steps: must be a positive integer, got ${options.steps}`, { details: { field: 'steps' } });
  if (B % spec.dp !== 0) throw new CommError('TRAIN_COMM_BAD_ARGS', `batch size ${B} does not split over dp=${spec.dp}`, { hint: 'use a batch size that is a multiple of dp' });
  const dataParallelOnly = spec.pp === 1 && spec.tp === 1;
  if (options.resume && !options.outDir) throw new TrainError('TRAIN_BAD_CONFIG', 'resume needs outDir (the checkpoint is read from outDir/checkpoint)', { details: { field: 'outDir' } });
  const localB = B / spec.dp;
  const dpRank = spec.dp > 1 ? Math.floor(comm.rank / (spec.pp * spec.tp)) : 0; // NOTE: model-parallel ranks of one replica read the same rows
  const sampler = new WindowSampler(dataset.train, objective.windowLength(T), { seed, what: `${dataset.dir} (train)` });
  let rng = new SeededRng(seed ^ 0x5eed);
  const strategy = dataParallelOnly ? await dataParallelStrategy(comm, options.model, spec, options) : await createStrategy(comm, options.model, spec, options);
  if ((strategy.precision ?? 'fp32') !== precision) {
    throw new TrainError('TRAIN_BAD_CONFIG', `precision ${precision} is not supported by the ${strategy.name} strategy (pp=${spec.pp}, tp=${spec.tp}) yet: it trains in ${strategy.precision ?? 'fp32'}`, { hint: 'use fp32, or dp with any ZeRO stage', details: { field: 'precision' } });
  }
  const ckptDir = options.outDir ? join(options.outDir, 'checkpoint') : undefined;
  const fullState = Boolean(strategy.exportState && strategy.importState);
  if (options.resume && !fullState) {
    throw new TrainError('TRAIN_BAD_CONFIG', `the ${strategy.name} strategy (pp=${spec.pp}, tp=${spec.tp}) cannot load a checkpoint's optimizer state yet`, { hint: 'train from scratch, or use dp with any ZeRO stage', details: { field: 'resume' } });
  }
  // NOTE: dropout: replica 0 keeps the model's stream (dp=1 draws what one worker draws); replica d > 0 gets its own seeded stream.
  if (dpRank > 0) options.model.rng.setState(createRng(dropoutSeed(seed, dpRank)).state());
  const runInfo = { objective: objective.name, precision, batchSize: B, seqLen: T, gradAccumSteps: 1, steps: options.steps, seed, parallel: { dp: spec.dp, pp: spec.pp, tp: spec.tp, zero: spec.zero } };
  let schedule = createSchedule({ ...options.schedule, totalSteps: options.schedule?.totalSteps ?? options.steps });
  let step = 0;
  let tokens = 0;
  let elapsedBefore = 0;
  if (options.resume && ckptDir) {
    const ck = await loadCheckpoint(ckptDir); // NOTE: every rank reads it and takes its shard
    schedule = checkResume(ck, runInfo, options.steps);
    await strategy.importState!({ master: ck.master, optimizer: ck.optimizer, ...(ck.state.scaler ? { scaler: ck.state.scaler } : {}) }).catch((error: unknown) => {
      if (!(error instanceof TrainError)) throw error;
      throw new TrainError(error.code as `TRAIN_${string}`, `${ck.dir}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), details: { ...error.details, dir: ck.dir }, cause: error });
    });
    const rngs = ck.state.modelRngs;
    if (rngs?.length === comm.worldSize) options.model.rng.setState(rngs[comm.rank] as RngState);
    else if (ck.state.modelRng !== undefined && dpRank === 0) options.model.rng.setState(ck.state.modelRng as RngState); // NOTE: another layout: replica 0 continues the saved stream
    sampler.loadState(ck.state.sampler);
    rng = SeededRng.fromState(ck.state.objectiveRng);
    step = ck.state.step;
    tokens = ck.state.tokens;
    elapsedBefore = ck.state.elapsedSeconds;
  }
  const startStep = step;
  const totalSteps = (): number => Math.max(step, Math.min(options.steps, schedule.options.totalSteps));
  comm.resetStats();
  const started = performance.now();
  let warmedAt = started;
  let lastLoss = NaN;
  let lastScale: number | undefined;

  const checkpoint = async (): Promise<void> => {
    if (!ckptDir) return;
    if (!fullState) {
      // NOTE: a strategy that cannot gather its optimizer state leaves the weights only (loadable, not resumable).
      const parameters = await strategy.fullParameters();
      if (comm.rank === 0) await saveWeightsOnly(ckptDir, options.model, parameters);
      await comm.barrier();
      return;
    }
    const full = await strategy.exportState!();
    const modelRngs = await gatherRngStates(comm, options.model.rng.state());
    if (comm.rank === 0) {
      const state: TrainerState = {
        format: 'lmkit-trainer-state', version: 1, step, tokens, elapsedSeconds: elapsedBefore + (performance.now() - started) / 1000,
        schedule: schedule.options, sampler: sampler.state(), objectiveRng: rng.state(), modelRng: modelRngs[0], modelRngs, run: runInfo,
        ...(full.scaler ? { scaler: full.scaler } : {}),
        ...(Number.isFinite(lastLoss) ? { lastLoss } : {}),
      };
      await saveFullCheckpoint(ckptDir, options.model, full, state, format);
    }
    await comm.barrier(); // NOTE: no rank returns before the checkpoint is on disk
  };
  /** Rank 0's verdict after a step, broadcast: [stop now (1 time budget, 2 signal), fitted total steps or 0]. */
  const stopVerdict = async (): Promise<number> => {
    const budget = options.timeBudgetSeconds;
    if (!budget && !options.signal) return 0;
    const verdict = new Float64Array(2);
    if (comm.rank === 0) {
      const now = performance.now();
      if (step - startStep === 2) warmedAt = now;
      if (budget && step - startStep === 8 && !options.resume) {
        // NOTE: fitted from steps 3–8 as train() does (the first two pay for JIT and start-up).
        const perStep = (now - warmedAt) / 1000 / 6;
        verdict[1] = Math.max(step + 1, Math.min(options.steps, step + Math.floor((budget - (now - started) / 1000) / perStep)));
      }
      verdict[0] = options.signal?.aborted ? 2 : budget && (now - started) / 1000 >= budget ? 1 : 0;
    }
    await comm.broadcast(verdict, 0);
    if (verdict[1] > 0) schedule = createSchedule({ ...schedule.options, totalSteps: verdict[1], warmupSteps: Math.min(schedule.options.warmupSteps, verdict[1]) });
    return verdict[0];
  };

  let timed = 0;
  let timedSteps = 0;
  let stoppedByTime = false;
  let interrupted = false;
  while (step < totalSteps()) {
    const t0 = performance.now();
    const lr = schedule.at(step);
    const global = objective.makeBatch(sampler.next(B), B, T, rng);
    const mine = rowsOf(global, dpRank * localB, (dpRank + 1) * localB);
    const res = await strategy.step([mine], lr);
    step += 1;
    tokens += B * T;
    const loss = spec.dp > 1 ? await globalLoss(comm, res.loss, mine.targetCount) : res.loss;
    lastLoss = loss;
    lastScale = res.lossScale;
    const dt = (performance.now() - t0) / 1000;
    if (step - startStep > 1 || options.steps - startStep === 1) {
      timed += dt;
      timedSteps++;
    }
    options.onStep?.({ step, loss, lr, tokensPerSecond: (B * T) / dt, bytesSent: comm.bytesSent(), gradNorm: res.gradNorm, ...(res.skipped ? { skipped: true } : {}), ...(res.lossScale !== undefined ? { lossScale: res.lossScale } : {}) });
    const last = step >= totalSteps();
    const stop = await stopVerdict();
    if (stop > 0 && !last) {
      stoppedByTime = stop === 1;
      interrupted = stop === 2;
      break;
    }
    if (ckptEvery > 0 && step % ckptEvery === 0 && !last) await checkpoint();
  }
  const ran = Math.max(1, step - startStep);
  const bytesPerStep = comm.bytesSent() / ran;
  await checkpoint();
  const memory = strategy.memory();
  const parameters = await strategy.fullParameters();
  return {
    steps: step, startStep, stoppedByTime, interrupted, loss: lastLoss, tokensPerSecond: timedSteps > 0 ? (B * T * timedSteps) / timed : NaN, memory, bytesPerStep, parameters,
    ...(ckptDir ? { checkpointDir: ckptDir } : {}), ...(lastScale !== undefined ? { lossScale: lastScale } : {}),
  };
}

/**
 * The global batch's mean loss from each rank's micro-batch mean `loss` over `targets` targets:
 * one 16-byte all-reduce of [loss·targets, targets] over every rank. The model-parallel ranks of
 * a replica all report that replica's loss, so each replica counts pp·tp times in both sums.
 */
async function globalLoss(comm: Communicator, loss: number, targets: number): Promise<number> {
  const sums = new Float64Array([targets > 0 ? loss * targets : 0, targets]);
  await comm.allReduce(sums, 'sum');
  return sums[1] > 0 ? sums[0] / sums[1] : loss;
}

/** The dropout seed of data-parallel replica `dpRank` > 0 of a run seeded `seed`. */
function dropoutSeed(seed: number, dpRank: number): number {
  return (seed ^ Math.imul(dpRank, 0x9e3779b1)) >>> 0;
}

/** Every rank's model RNG state by global rank: one all-reduce in which each rank fills its own four words. */
async function gatherRngStates(comm: Communicator, mine: RngState): Promise<RngState[]> {
  const words = new Float64Array(4 * comm.worldSize);
  words.set(mine.s, 4 * comm.rank);
  await comm.allReduce(words, 'sum');
  return Array.from({ length: comm.worldSize }, (_, r) => ({ s: [words[4 * r], words[4 * r + 1], words[4 * r + 2], words[4 * r + 3]] }));
}

/** Rows [from, to) of a batch. */
function rowsOf(b: ObjectiveBatch, from: number, to: number): ObjectiveBatch {
  if (from === 0 && to === b.batchSize) return b;
  const T = b.seqLen;
  const targets = b.targets.slice(from * T, to * T);
  return { inputIds: b.inputIds.slice(from * T, to * T), targets, batchSize: to - from, seqLen: T, targetCount: countTargets(targets) };
}

/**
 * The data-parallel strategy of a dp-only spec with every option (precision and loss scaling
 * included); the same choice as {@link createStrategy} makes for pp = tp = 1.
 */
async function dataParallelStrategy(comm: Communicator, model: DecoderLM, spec: ParallelSpec, o: ParallelTrainingOptions): Promise<ParallelStrategy> {
  if (worldSizeOf(spec) !== comm.worldSize) return createStrategy(comm, model, spec, o); // NOTE: its error names the mismatch
  const options = { ...(o.optimizer ? { optimizer: o.optimizer } : {}), ...(o.gradClip !== undefined ? { gradClip: o.gradClip } : {}), precision: o.precision ?? 'fp32', ...(o.lossScaler ? { lossScaler: o.lossScaler } : {}) };
  if (spec.zero === 3) return fullyShardedDecoder(comm, model, options);
  if (spec.zero === 1 || spec.zero === 2) return zero(comm, fromLmkitModel(model), { stage: spec.zero, ...options });
  return dataParallelDecoder(comm, model, options);
}
