// The training loop: micro-batches with gradient accumulation, mixed precision, clipping, AdamW, evaluation, checkpoints, metrics.
import { join } from 'node:path';
import { atomicWriteFile, createProgress, type Progress, type ProgressMode } from '@lmkit/core';
import { CHECKPOINT_FILES, loadCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint/checkpoint.js';
import { checkResume } from './checkpoint/run-compat.js';
import type { TokenDataset } from './data/token-dataset.js';
import { validationWindows, WindowSampler } from './data/window-sampler.js';
import { TrainError } from './errors.js';
import { renderReport } from './metrics/html-report.js';
import { MetricsLog, type MetricsRecord } from './metrics/metrics-log.js';
import { estimateMfu } from './metrics/mfu.js';
import type { Objective, ObjectiveBatch } from './objectives/objective.js';
import { AdamW, type AdamWOptions, type OptimParam } from './optim/adamw.js';
import { clipGradNorm, globalGradNorm } from './optim/clip-grad-norm.js';
import { roundArrayToFormat, type HalfFormat } from './precision/float-formats.js';
import { LossScaler, type LossScalerOptions } from './precision/loss-scaler.js';
import { SeededRng } from './rng.js';
import { createSchedule, type LrSchedule, type ScheduleOptions } from './schedule/lr-schedule.js';
import type { TrainableModel } from './trainable-model.js';

/** Numeric precision of weights and gradients during training (fp32 masters are kept for bf16/fp16). */
export type Precision = 'fp32' | 'bf16' | 'fp16';

/** Options for {@link train}. */
export interface TrainerOptions {
  /** The model to train. Required. */
  model: TrainableModel;
  /** The objective (causalLm(), maskedLm(...), spanCorruption(...)). Required. */
  objective: Objective;
  /** Token shards, from `openTokenDataset`. Required. */
  dataset: TokenDataset;
  /** Optimizer steps to run. Required. */
  steps: number;
  /** Sequences per micro-batch B. Default 8. */
  batchSize?: number;
  /** Model sequence length T. Default 128. */
  seqLen?: number;
  /** Micro-batches per optimizer step (the loss of each is divided by this). Default 1. */
  gradAccumSteps?: number;
  /** LR schedule; `totalSteps` defaults to `steps`. Default cosine, maxLr 3e-4, no warmup, final 10%. */
  schedule?: Partial<ScheduleOptions>;
  /** AdamW hyperparameters. Default β (0.9, 0.95), wd 0.1 on ≥ 2-D weights, eps 1e-8. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** 'fp32', 'bf16' or 'fp16' (with dynamic loss scaling). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** Seed of the data sampler and objective corruption. Default 1337. */
  seed?: number;
  /** Evaluate every this many steps (and at the end); 0 = only at the end. Default max(1, steps/10). */
  evalEvery?: number;
  /** Validation batches per evaluation. Default 8. */
  evalBatches?: number;
  /** Write a checkpoint every this many steps (always at the end and on interrupt); 0 = only then. Default 0. */
  checkpointEvery?: number;
  /** Directory for `checkpoint/`, `metrics.jsonl` and `report.html`; nothing is written without it. */
  outDir?: string;
  /** Continue from `outDir/checkpoint`. Default false. */
  resume?: boolean;
  /** Abort to stop after the current step (a checkpoint is written first). */
  signal?: AbortSignal;
  /** Stop after about this many seconds; the schedule is fitted to the steps that fit, measured over the first steps. */
  timeBudgetSeconds?: number;
  /** Progress display. Default 'auto' (a bar on a TTY). */
  progress?: ProgressMode;
  /** Peak FLOP/s for MFU. Default 44e9 × 2 (WASM SIMD FMA, 2 cores). */
  peakFlops?: number;
  /** Called after every step with its metrics record. */
  onStep?: (record: MetricsRecord) => void;
  /** Extra rows for the report's summary table. */
  summary?: Record<string, string | number>;
  /** Text samples for the report (e.g. generated after training). */
  samples?: () => Promise<string[]> | string[];
}

/** What {@link train} returns. */
export interface TrainResult {
  /** Optimizer steps completed (including any resumed ones). */
  steps: number;
  /** Last training loss. */
  loss: number;
  /** Last validation loss (NaN if there is no validation data). */
  valLoss: number;
  /** Tokens consumed. */
  tokens: number;
  /** Seconds spent training (across resumes). */
  elapsedSeconds: number;
  /** True when stopped by the signal. */
  interrupted: boolean;
  /** The checkpoint directory written, if any. */
  checkpointDir?: string;
  /** Every metrics record. */
  metrics: readonly MetricsRecord[];
}

const FORMATS: Record<Precision, HalfFormat | null> = { fp32: null, bf16: 'bf16', fp16: 'f16' };

/**
 * Trains `model` on `dataset` with `objective`. Each step: `gradAccumSteps` micro-batches
 * (forward + backward of loss/accum × loss scale), then unscale and overflow check (fp16: skip
 * and halve S), global-norm clipping, AdamW on fp32 master weights, and the bf16/fp16 copy
 * back into the model. Writes metrics every step, evaluates, checkpoints atomically, and
 * stops with `TRAIN_NONFINITE_LOSS` (naming the last good checkpoint) on a NaN/Inf loss.
 *
 * @example
 * const result = await train({ model, objective: causalLm(), dataset, steps: 200, outDir: 'out' });
 */
export async function train(options: TrainerOptions): Promise<TrainResult> {
  const { model, objective, dataset } = options;
  const B = options.batchSize ?? 8;
  const T = options.seqLen ?? 128;
  const accum = options.gradAccumSteps ?? 1;
  const precision = options.precision ?? 'fp32';
  const format = FORMATS[precision];
  const clip = options.gradClip ?? 1.0;
  const seed = options.seed ?? 1337;
  const evalEvery = options.evalEvery ?? Math.max(1, Math.floor(options.steps / 10));
  const evalBatches = options.evalBatches ?? 8;
  const ckptEvery = options.checkpointEvery ?? 0;
  const checkField = (field: string, value: number, ok: boolean, why: string): void => {
    if (!ok) throw new TrainError('TRAIN_BAD_CONFIG', `${field}: ${why}, got ${value}`, { details: { field } });
  };
  checkField('steps', options.steps, Number.isInteger(options.steps) && options.steps > 0, 'must be a positive integer');
  checkField('batchSize', B, Number.isInteger(B) && B > 0, 'must be a positive integer');
  checkField('seqLen', T, Number.isInteger(T) && T > 1, 'must be an integer > 1');
  checkField('gradAccumSteps', accum, Number.isInteger(accum) && accum > 0, 'must be a positive integer');
  if (!(precision in FORMATS)) throw new TrainError('TRAIN_BAD_CONFIG', `precision must be fp32, bf16 or fp16, got "${precision}"`, { details: { field: 'precision' } });

  const windowLength = objective.windowLength(T);
  const sampler = new WindowSampler(dataset.train, windowLength, { seed, what: `${dataset.dir} (train)` });
  let objectiveRng = new SeededRng(seed ^ 0x5eed);
  const valBatches = buildValidation(dataset, objective, windowLength, B, T, evalBatches, seed);

  const params = model.parameters();
  const master = params.map((p) => (format ? p.data.slice() : p.data));
  const optParams: OptimParam[] = params.map((p, i) => ({ name: p.name, shape: p.shape, data: master[i], grad: p.grad }));
  const optimizer = new AdamW(optParams, options.optimizer);
  const scaler = precision === 'fp16' ? new LossScaler(options.lossScaler) : null;
  const syncModel = (): void => {
    if (format) params.forEach((p, i) => roundArrayToFormat(master[i], format, p.data));
    model.syncParameters?.();
  };

  let schedule: LrSchedule = createSchedule({ ...options.schedule, totalSteps: options.schedule?.totalSteps ?? options.steps });
  let step = 0;
  let tokens = 0;
  let elapsedBefore = 0;
  let bestValLoss = Infinity;
  let lastLoss = NaN;
  let lastValLoss = NaN;
  const ckptDir = options.outDir ? join(options.outDir, 'checkpoint') : undefined;
  let lastCheckpoint: { dir: string; step: number } | undefined;
  const runInfo = { objective: objective.name, precision, batchSize: B, seqLen: T, gradAccumSteps: accum, steps: options.steps, seed };

  if (options.resume) {
    if (!ckptDir) throw new TrainError('TRAIN_BAD_CONFIG', 'resume needs outDir (the checkpoint is read from outDir/checkpoint)', { details: { field: 'outDir' } });
    const ck = await loadCheckpoint(ckptDir);
    schedule = checkResume(ck, runInfo, options.steps);
    params.forEach((p, i) => {
      const saved = ck.master.get(p.name);
      if (!saved || saved.length !== p.data.length) {
        throw new TrainError('TRAIN_BAD_CHECKPOINT', `${ck.dir}: no master weights of size ${p.data.length} for "${p.name}"`, { hint: 'the checkpoint is for another model; use its config or start fresh' });
      }
      master[i].set(saved);
    });
    optimizer.loadStateDict(ck.optimizer);
    if (scaler && ck.state.scaler) scaler.loadState(ck.state.scaler);
    sampler.loadState(ck.state.sampler);
    objectiveRng = SeededRng.fromState(ck.state.objectiveRng);
    if (ck.state.modelRng !== undefined) model.loadRngState?.(ck.state.modelRng);
    step = ck.state.step;
    tokens = ck.state.tokens;
    elapsedBefore = ck.state.elapsedSeconds;
    bestValLoss = ck.state.bestValLoss ?? Infinity;
    lastLoss = ck.state.lastLoss ?? NaN;
    lastCheckpoint = { dir: ck.dir, step };
  }
  syncModel();
  // NOTE: `steps` bounds the run; a schedule may be laid out longer (an interrupted plan) or be fitted shorter (a time budget).
  const totalSteps = (): number => Math.max(step, Math.min(options.steps, schedule.options.totalSteps));

  const log = options.outDir ? await MetricsLog.open(join(options.outDir, 'metrics.jsonl'), options.resume ? { resumeFromStep: step } : {}) : undefined;
  const records: MetricsRecord[] = log ? [...log.all] : [];
  const flopsPerToken = model.flopsPerToken?.(T);

  const checkpoint = async (): Promise<void> => {
    if (!ckptDir) return;
    const state: TrainerState = {
      format: 'lmkit-trainer-state', version: 1, step, tokens, elapsedSeconds: elapsedBefore + (performance.now() - started) / 1000,
      schedule: schedule.options, sampler: sampler.state(), objectiveRng: objectiveRng.state(), run: runInfo,
      ...(scaler ? { scaler: scaler.state() } : {}),
      ...(model.rngState ? { modelRng: model.rngState() } : {}),
      ...(Number.isFinite(bestValLoss) ? { bestValLoss } : {}),
      ...(Number.isFinite(lastLoss) ? { lastLoss } : {}),
    };
    const weights = model.exportWeights?.() ?? new Map(params.map((p) => [p.name, { shape: [...p.shape], data: p.data }]));
    await saveCheckpoint(ckptDir, {
      weights, config: model.config(), optimizer: optimizer.stateDict(), state,
      master: new Map(params.map((p, i) => [p.name, { shape: p.shape, data: master[i] }])),
    });
    lastCheckpoint = { dir: ckptDir, step };
  };

  const evaluate = (): number => {
    if (valBatches.length === 0) return NaN;
    let sum = 0;
    let count = 0;
    for (const batch of valBatches) {
      sum += model.evalLoss(batch) * batch.targetCount;
      count += batch.targetCount;
    }
    return sum / Math.max(1, count);
  };

  const nonFinite = (what: string, value: number): never => {
    const where = lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint.dir} (step ${lastCheckpoint.step})` : 'no checkpoint was written yet';
    throw new TrainError('TRAIN_NONFINITE_LOSS', `${what} is ${value} at step ${step + 1}; ${where}`, {
      hint: `lower the learning rate (now ${schedule.at(step).toExponential(2)}), use --precision fp32 or fp16 with loss scaling, or check the data; resume with --resume from the last checkpoint`,
      details: { step: step + 1, value, ...(lastCheckpoint ? { checkpoint: lastCheckpoint.dir, checkpointStep: lastCheckpoint.step } : {}) },
    });
  };

  // NOTE: with a time budget the bar starts once the schedule is fitted (after 8 steps), so its total and ETA are right.
  let progress: Progress | undefined;
  const startProgress = (): Progress => {
    const p = createProgress({ label: 'train', total: totalSteps(), unit: 'step', mode: options.progress ?? 'auto' });
    p.update(step);
    return p;
  };
  if (!options.timeBudgetSeconds || options.resume) progress = startProgress();
  const started = performance.now();
  let interrupted = false;
  let budgetFitted = options.resume === true;
  let warmedAt = started;
  const firstStep = step;

  try {
    while (step < totalSteps()) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const t0 = performance.now();
      const lr = schedule.at(step);
      model.zeroGrad();
      const lossScale = (scaler?.scale ?? 1) / accum;
      let lossSum = 0;
      for (let a = 0; a < accum; a++) {
        const batch = objective.makeBatch(sampler.next(B), B, T, objectiveRng);
        lossSum += model.lossAndBackward(batch, { lossScale });
      }
      const loss = lossSum / accum;
      if (!Number.isFinite(loss)) nonFinite('the training loss', loss);
      const grads = params.map((p) => p.grad);
      if (format) for (const g of grads) roundArrayToFormat(g, format);
      let skipped = false;
      if (scaler) {
        skipped = scaler.unscale(grads);
        scaler.update(skipped);
      }
      let gradNorm = NaN;
      if (!skipped) {
        gradNorm = clip > 0 ? clipGradNorm(grads, clip) : globalGradNorm(grads);
        if (!Number.isFinite(gradNorm)) nonFinite('the gradient norm', gradNorm);
        optimizer.step(lr);
        syncModel();
      }
      step += 1;
      const stepTokens = B * T * accum;
      tokens += stepTokens;
      lastLoss = loss;
      const seconds = (performance.now() - t0) / 1000;
      const tokensPerS = stepTokens / seconds;
      const record: MetricsRecord = { step, loss, lr, tokens, tokens_per_s: Math.round(tokensPerS), elapsed_s: +(elapsedBefore + (performance.now() - started) / 1000).toFixed(3) };
      if (!skipped) record.grad_norm = gradNorm;
      if (flopsPerToken) record.mfu = +estimateMfu({ flopsPerToken, tokensPerSecond: tokensPerS, peakFlops: options.peakFlops }).toFixed(5);
      if (scaler) record.loss_scale = scaler.scale;
      if (skipped) record.skipped = true;

      // Fit the schedule to a time budget from steps 3–8 (the first two pay for JIT and kernel start-up); not when resuming.
      if (options.timeBudgetSeconds && !budgetFitted) {
        if (step - firstStep === 2) warmedAt = performance.now();
        if (step - firstStep === 8) {
          budgetFitted = true;
          const now = performance.now();
          const perStep = (now - warmedAt) / 1000 / 6;
          const remaining = options.timeBudgetSeconds - (now - started) / 1000;
          const fit = Math.max(step + 1, Math.min(options.steps, step + Math.floor(remaining / perStep)));
          schedule = createSchedule({ ...schedule.options, totalSteps: fit, warmupSteps: Math.min(schedule.options.warmupSteps, fit) });
          progress = startProgress();
        }
      }
      const last = step >= totalSteps();
      if ((evalEvery > 0 && step % evalEvery === 0) || last) {
        lastValLoss = evaluate();
        if (Number.isFinite(lastValLoss)) {
          record.val_loss = lastValLoss;
          bestValLoss = Math.min(bestValLoss, lastValLoss);
        }
      }
      records.push(record);
      if (log) await log.write(record);
      options.onStep?.(record);
      progress?.update(step, { loss: +loss.toFixed(4), 'tok/s': Math.round(tokensPerS) });
      if (ckptEvery > 0 && step % ckptEvery === 0 && !last) await checkpoint();
      if (options.timeBudgetSeconds && (performance.now() - started) / 1000 >= options.timeBudgetSeconds && !last) {
        if (!Number.isFinite(record.val_loss ?? NaN)) lastValLoss = evaluate();
        break;
      }
    }
  } finally {
    progress?.stop();
  }
  await checkpoint();
  const elapsedSeconds = elapsedBefore + (performance.now() - started) / 1000;
  if (options.outDir) {
    const samples = options.samples ? await options.samples() : [];
    const summary: Record<string, string | number> = {
      objective: objective.name, precision, steps: step, tokens, 'batch × seq × accum': `${B} × ${T} × ${accum}`,
      'final train loss': lastLoss, ...(Number.isFinite(lastValLoss) ? { 'final val loss': lastValLoss } : {}),
      'training time': `${elapsedSeconds.toFixed(1)} s`, ...options.summary,
    };
    await atomicWriteFile(join(options.outDir, 'report.html'), renderReport({ metrics: records, summary, samples }));
  }
  return { steps: step, loss: lastLoss, valLoss: lastValLoss, tokens, elapsedSeconds, interrupted, ...(ckptDir ? { checkpointDir: ckptDir } : {}), metrics: records };
}

function buildValidation(dataset: TokenDataset, objective: Objective, windowLength: number, B: number, T: number, maxBatches: number, seed: number): ObjectiveBatch[] {
  const windows = validationWindows(dataset.val, windowLength, maxBatches * B);
  const rng = new SeededRng(seed ^ 0xe7a1); // NOTE: fixed corruption so every evaluation scores the same targets
  const batches: ObjectiveBatch[] = [];
  for (let i = 0; i < windows.length; i += B) {
    const n = Math.min(B, windows.length - i); // the last batch may be smaller
    const flat = new Int32Array(n * windowLength);
    for (let b = 0; b < n; b++) flat.set(windows[i + b], b * windowLength);
    batches.push(objective.makeBatch(flat, n, T, rng));
  }
  return batches;
}

