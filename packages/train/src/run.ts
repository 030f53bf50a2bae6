// One call from a run config and a shard directory to a trained checkpoint: validate, build, load data, train.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProgressMode } from '@lmkit/core';
import { countParams, resolveConfig, type LanguageModel, type ModelConfig } from '@lmkit/model';
import { openTokenDataset } from './data/token-dataset.js';
import { fromLmkitModel } from './lmkit-model.js';
import type { MetricsRecord } from './metrics/metrics-log.js';
import { createRunModel, modelConfigFor, objectiveFor, seqLenFor, validateRunConfig, type RunConfig } from './run-config.js';
import { train, type TrainResult } from './trainer.js';

/** Options for {@link runTraining}. */
export interface RunTrainingOptions {
  /** Directory of `.bin` token shards. Required. */
  dataDir: string;
  /** Output directory: `checkpoint/`, `metrics.jsonl`, `report.html`. Required. */
  outDir: string;
  /** The run config (validated here). Default {} (tiny preset, clm). */
  config?: RunConfig;
  /** Name of the config's source in errors. Default 'config'. */
  source?: string;
  /** Continue from `outDir/checkpoint`. Default false. */
  resume?: boolean;
  /** Abort to stop after the current step with a checkpoint. */
  signal?: AbortSignal;
  /** Stop after about this many seconds (the schedule is fitted to it). */
  timeBudgetSeconds?: number;
  /** Progress display. Default 'auto'. */
  progress?: ProgressMode;
  /** Called after every step. */
  onStep?: (record: MetricsRecord) => void;
  /** Samples for the report, generated from the trained model. */
  samples?: (model: LanguageModel) => Promise<string[]> | string[];
  /** Extra rows for the report's summary table. */
  summary?: Record<string, string | number>;
}

/** What {@link runTraining} returns. */
export interface RunTrainingResult extends TrainResult {
  /** The trained model (weights as of the last step). */
  model: LanguageModel;
  /** The model config used. */
  modelConfig: ModelConfig;
  /** Trainable parameters. */
  params: number;
  /** Tokens in the data directory (train + val). */
  dataTokens: number;
}

/**
 * Validates `config`, opens the shards, builds the model (vocabulary fitted to the data and
 * objective) and trains it, writing checkpoints, metrics and the report under `outDir`.
 *
 * @example
 * await runTraining({ dataDir: 'tokens', outDir: 'runs/tiny', config: { steps: 500, lr: 1e-3 } });
 */
export async function runTraining(options: RunTrainingOptions): Promise<RunTrainingResult> {
  const source = options.source ?? 'config';
  const run = validateRunConfig(options.config ?? {}, source);
  // NOTE: model shape and seq_len are checked before any data is read (the vocabulary is fitted later).
  seqLenFor(run, resolveConfig(modelConfigFor(run, 1, source), source).spec.maxPositions, source);
  const dataset = await openTokenDataset(options.dataDir, { valFraction: run.val_fraction ?? 0.05 });
  const { model, config } = createRunModel(run, dataset.maxTokenId, source);
  const seqLen = seqLenFor(run, model.spec.maxPositions, source);
  const objectiveName = run.objective ?? 'clm';
  const objective = objectiveFor(objectiveName, model.spec.realVocabSize, dataset.maxTokenId);
  const steps = run.steps ?? 1000;
  const result = await train({
    model: fromLmkitModel(model, { gradientCheckpointing: run.gradient_checkpointing ?? false }),
    objective,
    dataset,
    steps,
    batchSize: run.batch_size ?? 8,
    seqLen,
    gradAccumSteps: run.grad_accum_steps ?? 1,
    schedule: {
      kind: run.schedule ?? 'cosine',
      maxLr: run.lr ?? 1e-3,
      warmupSteps: run.warmup_steps ?? Math.min(100, Math.floor(steps / 10)),
      finalLrFrac: run.min_lr_frac ?? 0.1,
    },
    optimizer: { weightDecay: run.weight_decay ?? 0.1, betas: [run.beta1 ?? 0.9, run.beta2 ?? 0.95] },
    gradClip: run.grad_clip ?? 1.0,
    precision: run.precision ?? 'fp32',
    seed: run.seed ?? 1337,
    evalEvery: run.eval_every ?? Math.max(1, Math.floor(steps / 10)),
    evalBatches: run.eval_batches ?? 8,
    checkpointEvery: run.checkpoint_every ?? 0,
    outDir: options.outDir,
    ...(options.resume ? { resume: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeBudgetSeconds ? { timeBudgetSeconds: options.timeBudgetSeconds } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    progress: options.progress ?? 'auto',
    summary: {
      model: `${config.model_type} (${countParams(model.spec)} params, d ${model.spec.dModel}, ${model.spec.nLayer} layers, ${model.spec.nHead} heads, vocab ${model.spec.vocabSize})`,
      data: `${options.dataDir} (${dataset.totalTokens} tokens)`,
      ...options.summary,
    },
    ...(options.samples ? { samples: () => options.samples!(model) } : {}),
  });
  // NOTE: shards written by `lmkit data pretokenize` carry their tokenizer; the checkpoint takes a copy so
  // `lmkit generate | eval | serve` find it beside the weights.
  const tokenizerDir = join(options.dataDir, 'tokenizer');
  if (result.checkpointDir && existsSync(join(tokenizerDir, 'lmkit.json'))) await cp(tokenizerDir, join(result.checkpointDir, 'tokenizer'), { recursive: true });
  return { ...result, model, modelConfig: config, params: countParams(model.spec), dataTokens: dataset.totalTokens };
}
