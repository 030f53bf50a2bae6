// `lmkit train --parallel ... [--zero N] [--backend threads|tcp]`: data, pipeline and tensor parallelism and ZeRO.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { saveModel, type DecoderLM } from '@lmkit/model';
import {
  causalLm, createRunModel, createSchedule, openTokenDataset, parseParallelSpec, renderReport, resolveDistEnv, runParallelThreads,
  runParallelTraining, seqLenFor, tcpCommunicator, worldSizeOf, type MemoryReport, type MetricsRecord, type ParallelSpec, type RunConfig,
} from '@lmkit/train';
import { UsageError } from '../io.js';

/** The parallel flags of `lmkit train`. */
export interface ParallelFlags {
  /** `dp=2,pp=1,tp=1` (also zero=, schedule=, mb=). */
  parallel?: string;
  /** ZeRO stage 0–3 for data parallelism. */
  zero?: number;
  /** `threads` (worker threads of this process) or `tcp` (one process per rank, e.g. under `lmkit launch`). */
  backend?: string;
}

/** What a parallel run reports (rank 0 writes the checkpoint, metrics and report). */
export interface ParallelRunSummary {
  spec: ParallelSpec;
  backend: 'threads' | 'tcp';
  rank: number;
  worldSize: number;
  steps: number;
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

function refuse(what: string, why: string): never {
  throw new UsageError(`${what} is not supported with --parallel yet: ${why}`, 'drop it, or train on one worker');
}

/**
 * Runs a parallel training job from a validated run config. The strategies train in fp32 with the
 * causal-LM objective; rank 0 gathers the parameters and writes OUT/checkpoint (safetensors +
 * config.json, with the shards' tokenizer), OUT/metrics.jsonl and OUT/report.html.
 */
export async function trainParallel(options: { flags: ParallelFlags; run: RunConfig; dataDir: string; outDir: string; resume: boolean; source: string }): Promise<ParallelRunSummary> {
  const { flags, run, dataDir, outDir } = options;
  if (options.resume) refuse('--resume', 'parallel runs write a final checkpoint but no optimizer state to resume from');
  if ((run.objective ?? 'clm') !== 'clm') refuse(`--objective ${run.objective}`, 'the strategies train decoders with the causal-LM objective');
  if ((run.precision ?? 'fp32') !== 'fp32') refuse(`--precision ${run.precision}`, 'the strategies keep fp32 weights (no loss-scale agreement across ranks yet)');
  if ((run.grad_accum_steps ?? 1) !== 1) refuse('--grad-accum', 'use a larger --batch-size: data-parallel ranks split it');
  if (run.gradient_checkpointing) refuse('--gradient-checkpointing', 'ZeRO-3 already recomputes blocks; the others keep activations');
  const backend = flags.backend ?? 'threads';
  if (backend !== 'threads' && backend !== 'tcp') throw new UsageError(`--backend must be threads or tcp, got "${backend}"`);
  if (flags.zero !== undefined && ![0, 1, 2, 3].includes(flags.zero)) throw new UsageError(`--zero must be 0, 1, 2 or 3, got ${flags.zero}`);
  const spec = parseParallelSpec(flags.parallel ?? 'dp=1', flags.zero === undefined ? {} : { zero: flags.zero as 0 | 1 | 2 | 3 });

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
  };
  const started = performance.now();

  let rank = 0;
  let worldSize = worldSizeOf(spec);
  let losses: number[];
  let parameters: Map<string, Float32Array> | undefined;
  let result: { tokensPerSecond: number; bytesPerStep: number; memory: MemoryReport };
  if (backend === 'threads') {
    const ranks = await runParallelThreads({ spec, modelConfig: config, dataDir, ...common });
    const r0 = ranks.find((r) => r.rank === 0)!;
    // NOTE: each replica sees its own micro-batch; the mean over ranks is the global batch's loss.
    losses = r0.losses.map((_, step) => ranks.reduce((sum, r) => sum + (r.losses[step] ?? NaN), 0) / ranks.length);
    parameters = r0.parameters;
    result = { tokensPerSecond: r0.tokensPerSecond, bytesPerStep: r0.bytesPerStep, memory: r0.memory };
  } else {
    const comm = await tcpCommunicator(resolveDistEnv());
    rank = comm.rank;
    worldSize = comm.worldSize;
    if (worldSize !== worldSizeOf(spec)) {
      await comm.close();
      throw new UsageError(`--parallel ${flags.parallel} needs ${worldSizeOf(spec)} processes, but WORLD_SIZE is ${worldSize}`, `run it with lmkit launch --nproc ${worldSizeOf(spec)} -- lmkit train ...`);
    }
    losses = [];
    const trained = await runParallelTraining({ comm, spec, model: model as DecoderLM, dataset, objective: causalLm(), ...common, onStep: (r) => losses.push(r.loss) });
    await comm.close();
    parameters = trained.parameters;
    result = { tokensPerSecond: trained.tokensPerSecond, bytesPerStep: trained.bytesPerStep, memory: trained.memory };
  }

  const summary: ParallelRunSummary = {
    spec, backend, rank, worldSize, steps: losses.length, loss: losses.at(-1) ?? NaN, tokensPerSecond: result.tokensPerSecond,
    bytesPerStep: result.bytesPerStep, memoryBytes: result.memory.total, wroteCheckpoint: false,
  };
  if (rank !== 0 || !parameters) return summary;

  // Rank 0: the gathered parameters become an ordinary checkpoint that generate/eval/quantize load.
  const shapes = new Map(model.namedParameters().map(([name, p]) => [name, [...p.shape]]));
  model.loadStateDict(new Map([...parameters].map(([name, data]) => [name, { data, shape: shapes.get(name) ?? [data.length] }])));
  const checkpoint = join(outDir, 'checkpoint');
  await saveModel(model, checkpoint);
  const tokenizerDir = join(dataDir, 'tokenizer');
  if (existsSync(join(tokenizerDir, 'lmkit.json'))) await cp(tokenizerDir, join(checkpoint, 'tokenizer'), { recursive: true });
  const lr = createSchedule(schedule);
  const tokensPerStep = common.batchSize * seqLen;
  const elapsed = (performance.now() - started) / 1000;
  const metrics: MetricsRecord[] = losses.map((loss, i) => ({ step: i + 1, loss, lr: lr.at(i), tokens: (i + 1) * tokensPerStep, tokens_per_s: Math.round(result.tokensPerSecond) }));
  if (metrics.length > 0) metrics[metrics.length - 1]!.elapsed_s = +elapsed.toFixed(3);
  await atomicWriteFile(join(outDir, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  const split = `dp=${spec.dp}, pp=${spec.pp}, tp=${spec.tp}, zero=${spec.zero}${spec.pp > 1 ? `, ${spec.schedule} × ${spec.microBatches} micro-batches` : ''}`;
  await atomicWriteFile(join(outDir, 'report.html'), renderReport({
    title: 'lmkit parallel training report',
    metrics,
    summary: { parallel: split, backend, ranks: worldSize, 'tokens/s': Math.round(result.tokensPerSecond), 'bytes sent per step (rank 0)': Math.round(result.bytesPerStep), data: `${dataDir} (${dataset.totalTokens} tokens)` },
  }));
  return { ...summary, wroteCheckpoint: true };
}
