// `lmkit train --parallel ... [--zero N] [--backend threads|tcp]`: data, pipeline and tensor parallelism and ZeRO, with --precision, --resume and --minutes for dp/ZeRO.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import type { DecoderLM } from '@lmkit/model';
import {
  causalLm, createRunModel, MetricsLog, openTokenDataset, parseParallelSpec, renderReport, resolveDistEnv, runParallelThreads,
  runParallelTraining, seqLenFor, tcpCommunicator, worldSizeOf, type MemoryReport, type MetricsRecord, type ParallelSpec, type RunConfig,
} from '@lmkit/train';
import { stopOnSigint, UsageError } from '../io.js';

/** The parallel flags of `lmkit train` (with the general flags they combine with). */
export interface ParallelFlags {
  /** `dp=2,pp=1,tp=1` (also zero=, schedule=, mb=, stages=3+1|balanced). */
  parallel?: string;
  /** ZeRO stage 0–3 for data parallelism. */
  zero?: number;
  /** `threads` (worker threads of this process) or `tcp` (one process per rank, e.g. under `lmkit launch`). */
  backend?: string;
  /** `--minutes`: stop every rank after the same step once about this many minutes have passed. */
  minutes?: number;
}

/** What a parallel run reports (rank 0 writes the checkpoint, metrics and report). */
export interface ParallelRunSummary {
  spec: ParallelSpec;
  backend: 'threads' | 'tcp';
  precision: 'fp32' | 'bf16' | 'fp16';
  rank: number;
  worldSize: number;
  /** Global steps completed (including resumed ones). */
  steps: number;
  /** The step this run started from (the checkpoint's with --resume). */
  startStep: number;
  /** True when --minutes ended the run. */
  stoppedByTime: boolean;
  /** True when Ctrl-C (SIGINT) ended the run: every rank stopped after the same step and the checkpoint was written. */
  interrupted: boolean;
  loss: number;
  tokensPerSecond: number;
  bytesPerStep: number;
  memoryBytes: number;
  wroteCheckpoint: boolean;
}

/** True when the flags ask for parallel training. */
export function wantsParallel(flags: ParallelFlags): boolean {
  return flags.parallel !== undefined || flags.zero !== undefined || flags.backend !== undefined;
}

function refuse(what: string, why: string, hint = 'drop it, or train on one worker'): never {
  throw new UsageError(`${what} is not supported with --parallel yet: ${why}`, hint);
}

/**
 * A strategy's refusal of a flag (TRAIN_BAD_CONFIG on `precision` or `resume`) as a usage error
 * naming the flag; anything else is rethrown as is.
 */
function refusal(error: unknown, spec: ParallelSpec, precision: string): never {
  // NOTE: duck-typed: the error may come from another copy of @lmkit/core (a worker thread's bundle).
  const e = error as { code?: unknown; message?: string; details?: { field?: unknown } };
  const field = e.code === 'TRAIN_BAD_CONFIG' ? e.details?.field : undefined;
  if (field === 'precision' || field === 'resume') {
    refuse(field === 'precision' ? `--precision ${precision}` : '--resume', String(e.message), `use --parallel dp=N (with any --zero) for it, or drop it (split: dp=${spec.dp}, pp=${spec.pp}, tp=${spec.tp})`);
  }
  throw error;
}

/** One step as every rank reports it. */
interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  gradNorm: number;
  skipped?: boolean;
  lossScale?: number;
}

/**
 * Runs a parallel training job from a validated run config (causal-LM objective): --precision,
 * --resume (from a parallel checkpoint of any layout or a single-worker one) and --minutes (every
 * rank stops after the same step) go to every strategy; one that does not support a flag yet
 * refuses it by name (a usage error). Rank 0 writes OUT/checkpoint (the single-worker trainer's
 * format, or the weights only for a strategy that cannot gather its optimizer state; with the
 * shards' tokenizer), OUT/metrics.jsonl and OUT/report.html.
 */
export async function trainParallel(options: { flags: ParallelFlags; run: RunConfig; dataDir: string; outDir: string; resume: boolean; source: string }): Promise<ParallelRunSummary> {
  const { flags, run, dataDir, outDir } = options;
  if ((run.objective ?? 'clm') !== 'clm') refuse(`--objective ${run.objective}`, 'the strategies train decoders with the causal-LM objective');
  if ((run.grad_accum_steps ?? 1) !== 1) refuse('--grad-accum', 'use a larger --batch-size: data-parallel ranks split it');
  if (run.gradient_checkpointing) refuse('--gradient-checkpointing', 'ZeRO-3 already recomputes blocks; the others keep activations');
  const backend = flags.backend ?? 'threads';
  if (backend !== 'threads' && backend !== 'tcp') throw new UsageError(`--backend must be threads or tcp, got "${backend}"`);
  if (flags.zero !== undefined && ![0, 1, 2, 3].includes(flags.zero)) throw new UsageError(`--zero must be 0, 1, 2 or 3, got ${flags.zero}`);
  if (flags.minutes !== undefined && !(flags.minutes > 0)) throw new UsageError(`--minutes must be positive, got ${flags.minutes}`);
  const spec = parseParallelSpec(flags.parallel ?? 'dp=1', flags.zero === undefined ? {} : { zero: flags.zero as 0 | 1 | 2 | 3 });
  const precision = run.precision ?? 'fp32';

  const dataset = await openTokenDataset(dataDir, { valFraction: run.val_fraction ?? 0.05 });
  const { model, config } = createRunModel(run, dataset.maxTokenId, options.source);
  const seqLen = seqLenFor(run, model.spec.maxPositions, options.source);
  const steps = run.steps ?? 1000;
  const seed = run.seed ?? 1337;
  const schedule = {
    kind: run.schedule ?? 'cosine',
    maxLr: run.lr ?? 1e-3,
    warmupSteps: run.warmup_steps ?? Math.min(100, Math.floor(steps / 10)),
    finalLrFrac: run.min_lr_frac ?? 0.1,
    totalSteps: steps,
  } as const;
  const common = {
    steps, batchSize: run.batch_size ?? 8, seqLen, schedule, seed,
    optimizer: { weightDecay: run.weight_decay ?? 0.1, betas: [run.beta1 ?? 0.9, run.beta2 ?? 0.95] as [number, number] },
    gradClip: run.grad_clip ?? 1.0,
    precision, outDir, resume: options.resume, checkpointEvery: run.checkpoint_every ?? 0,
    ...(flags.minutes !== undefined ? { timeBudgetSeconds: flags.minutes * 60 } : {}),
  };
  const started = performance.now();

  let rank = 0;
  let worldSize = worldSizeOf(spec);
  let records: StepRecord[];
  let parameters: Map<string, Float32Array> | undefined;
  let result: { tokensPerSecond: number; bytesPerStep: number; memory: MemoryReport; startStep: number; stoppedByTime: boolean; interrupted: boolean };
  // NOTE: Ctrl-C as in the single-worker `lmkit train`: rank 0 stops every rank after the current step, the checkpoint is written, exit code 130.
  const sigint = stopOnSigint('stopping every rank after this step and writing a checkpoint');
  try {
    if (backend === 'threads') {
      process.stderr.write(`lmkit: training on ${worldSize} worker threads (dp=${spec.dp}, pp=${spec.pp}, tp=${spec.tp}); Ctrl-C stops after the current step and writes a checkpoint\n`);
      const ranks = await runParallelThreads({ spec, modelConfig: config, dataDir, ...common, signal: sigint.signal }).catch((error: unknown) => refusal(error, spec, precision));
      const r0 = ranks.find((r) => r.rank === 0)!;
      records = r0.records; // NOTE: every rank reports the global batch's loss
      parameters = r0.parameters;
      result = r0;
    } else {
      ({ records, parameters, result, rank, worldSize } = await trainTcp());
    }
  } finally {
    sigint.dispose();
  }
  if (result.interrupted) {
    process.exitCode = 130;
    if (rank === 0) process.stderr.write(`lmkit: interrupted at step ${result.startStep + records.length}; resume with --resume\n`);
  }
  async function trainTcp() {
    const comm = await tcpCommunicator(resolveDistEnv());
    if (comm.worldSize !== worldSizeOf(spec)) {
      await comm.close();
      throw new UsageError(`--parallel ${flags.parallel} needs ${worldSizeOf(spec)} processes, but WORLD_SIZE is ${comm.worldSize}`, `run it with lmkit launch --nproc ${worldSizeOf(spec)} -- lmkit train ...`);
    }
    const steps: StepRecord[] = [];
    const trained = await runParallelTraining({ comm, spec, model: model as DecoderLM, dataset, objective: causalLm(), ...common, signal: sigint.signal, onStep: (r) => steps.push(r) }).catch(async (error: unknown) => {
      await comm.close();
      return refusal(error, spec, precision);
    });
    await comm.close();
    return { records: steps, parameters: trained.parameters as Map<string, Float32Array> | undefined, result: trained, rank: comm.rank, worldSize: comm.worldSize };
  }

  const summary: ParallelRunSummary = {
    spec, backend, precision, rank, worldSize, steps: result.startStep + records.length, startStep: result.startStep, stoppedByTime: result.stoppedByTime, interrupted: result.interrupted,
    loss: records.at(-1)?.loss ?? NaN, tokensPerSecond: result.tokensPerSecond, bytesPerStep: result.bytesPerStep, memoryBytes: result.memory.total, wroteCheckpoint: false,
  };
  if (rank !== 0 || !parameters) return summary;

  const checkpoint = join(outDir, 'checkpoint');
  const tokenizerDir = join(dataDir, 'tokenizer');
  if (existsSync(join(tokenizerDir, 'lmkit.json'))) await cp(tokenizerDir, join(checkpoint, 'tokenizer'), { recursive: true });
  const tokensPerStep = common.batchSize * seqLen;
  const elapsed = (performance.now() - started) / 1000;
  const log = await MetricsLog.open(join(outDir, 'metrics.jsonl'), options.resume ? { resumeFromStep: result.startStep } : {});
  for (const [i, r] of records.entries()) {
    const metric: MetricsRecord = { step: r.step, loss: r.loss, lr: r.lr, tokens: r.step * tokensPerStep, tokens_per_s: Math.round(r.tokensPerSecond) };
    if (Number.isFinite(r.gradNorm)) metric.grad_norm = r.gradNorm;
    if (r.lossScale !== undefined) metric.loss_scale = r.lossScale;
    if (r.skipped) metric.skipped = true;
    if (i === records.length - 1) metric.elapsed_s = +elapsed.toFixed(3);
    await log.write(metric);
  }
  const split = `dp=${spec.dp}, pp=${spec.pp}, tp=${spec.tp}, zero=${spec.zero}${spec.pp > 1 ? `, ${spec.schedule} × ${spec.microBatches} micro-batches` : ''}`;
  await atomicWriteFile(join(outDir, 'report.html'), renderReport({
    title: 'lmkit parallel training report',
    metrics: [...log.all],
    summary: {
      parallel: split, backend, ranks: worldSize, precision, steps: summary.steps, ...(result.startStep > 0 ? { 'resumed from step': result.startStep } : {}),
      ...(result.stoppedByTime ? { 'stopped by': `--minutes ${flags.minutes}` } : {}), ...(result.interrupted ? { 'stopped by': 'Ctrl-C' } : {}),
      'tokens/s': Math.round(result.tokensPerSecond), 'bytes sent per step (rank 0)': Math.round(result.bytesPerStep), data: `${dataDir} (${dataset.totalTokens} tokens)`,
    },
  }));
  return { ...summary, wroteCheckpoint: true };
}
