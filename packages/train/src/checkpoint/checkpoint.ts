// Training checkpoints: model weights + config.json, optimizer state with fp32 masters, and the trainer's state, swapped in atomically.
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { atomicWriteFile } from '@lmkit/core';
import { entryToFloat32, floatEntry, readSafetensors, writeSafetensors, type SafetensorsEntry } from '@lmkit/model';
import { TrainError } from '../errors.js';
import type { AdamWState } from '../optim/adamw.js';
import type { LossScalerState } from '../precision/loss-scaler.js';
import type { SamplerState } from '../data/window-sampler.js';
import type { RngState } from '../rng.js';
import type { ScheduleOptions } from '../schedule/lr-schedule.js';

/** Files inside a checkpoint directory. */
export const CHECKPOINT_FILES = {
  /** Model weights (the format other tools load). */
  model: 'model.safetensors',
  /** Model config (Hugging Face fields). */
  config: 'config.json',
  /** fp32 master weights and AdamW moments: `master.<p>`, `m.<p>`, `v.<p>`. */
  optimizer: 'optimizer.safetensors',
  /** Everything else needed to resume (JSON). */
  state: 'trainer_state.json',
} as const;

/** The JSON part of a checkpoint: where the run is and how to continue it exactly. */
export interface TrainerState {
  /** Marks the file. */
  format: 'lmkit-trainer-state';
  /** Format version. */
  version: 1;
  /** Optimizer steps completed (including skipped fp16 steps). */
  step: number;
  /** Tokens consumed so far. */
  tokens: number;
  /** Training seconds so far (across resumes). */
  elapsedSeconds: number;
  /** The LR schedule in force. */
  schedule: Required<ScheduleOptions>;
  /** Loss scaler (fp16 only). */
  scaler?: LossScalerState;
  /** Training data position. */
  sampler: SamplerState;
  /** RNG that drives the objective's corruption (MLM/span). */
  objectiveRng: RngState;
  /** RNG state inside the model (dropout), if it has one; for a parallel run, rank 0's. */
  modelRng?: unknown;
  /** Parallel runs: every rank's model RNG state by global rank (data-parallel replicas draw different dropout masks); a resume on the same world size restores each rank's stream. */
  modelRngs?: unknown[];
  /** Best validation loss so far. */
  bestValLoss?: number;
  /** Last training loss. */
  lastLoss?: number;
  /** The run's options (precision, batch size, ...), for `--resume` checks and the record. */
  run: Record<string, unknown>;
}

/** What {@link saveCheckpoint} writes. */
export interface CheckpointContent {
  /** Weights for `model.safetensors`, by the names they are saved under. */
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  /** Model config for `config.json`. */
  config: Record<string, unknown>;
  /** fp32 master weights by parameter name (exact values the optimizer updates). */
  master: Map<string, { shape: readonly number[]; data: Float32Array }>;
  /** AdamW state. */
  optimizer: AdamWState;
  /** Trainer state. */
  state: TrainerState;
}

/** What {@link loadCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The directory read (may be the `.old` fallback). */
  dir: string;
  /** Model config. */
  config: Record<string, unknown>;
  /** fp32 master weights by parameter name. */
  master: Map<string, Float32Array>;
  /** AdamW state. */
  optimizer: AdamWState;
  /** Trainer state. */
  state: TrainerState;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes a checkpoint to `dir` so that `dir` always holds a whole checkpoint: everything goes
 * to `dir.partial/` first (each file atomically), then the old `dir` is moved to `dir.old`,
 * `dir.partial` becomes `dir`, and `dir.old` is removed. {@link loadCheckpoint} falls back to
 * `dir.old` if a crash hit between the two renames.
 */
export async function saveCheckpoint(dir: string, content: CheckpointContent): Promise<void> {
  const partial = `${dir}.partial`;
  const old = `${dir}.old`;
  await rm(partial, { recursive: true, force: true });
  const model: Record<string, SafetensorsEntry> = {};
  for (const [name, w] of content.weights) model[name] = floatEntry(w.data, w.shape);
  await writeSafetensors(`${partial}/${CHECKPOINT_FILES.model}`, model, { format: 'pt' });
  await atomicWriteFile(`${partial}/${CHECKPOINT_FILES.config}`, JSON.stringify(content.config, null, 2) + '\n');
  const opt: Record<string, SafetensorsEntry> = {};
  for (const [name, p] of content.master) {
    const m = content.optimizer.m[name];
    const v = content.optimizer.v[name];
    if (!m || !v) throw new TrainError('TRAIN_BAD_CHECKPOINT', `no optimizer moments for "${name}" while saving`);
    opt[`master.${name}`] = floatEntry(p.data, [...p.shape]);
    opt[`m.${name}`] = floatEntry(m, [...p.shape]);
    opt[`v.${name}`] = floatEntry(v, [...p.shape]);
  }
  await writeSafetensors(`${partial}/${CHECKPOINT_FILES.optimizer}`, opt, { step: String(content.optimizer.step) });
  await atomicWriteFile(`${partial}/${CHECKPOINT_FILES.state}`, JSON.stringify(content.state, null, 2) + '\n');
  await rm(old, { recursive: true, force: true });
  if (await exists(dir)) await rename(dir, old);
  await rename(partial, dir);
  await rm(old, { recursive: true, force: true });
}

/** Reads a checkpoint written by {@link saveCheckpoint}, with clear errors for missing or damaged parts. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  let from = dir;
  if (!(await exists(`${dir}/${CHECKPOINT_FILES.state}`)) && (await exists(`${dir}.old/${CHECKPOINT_FILES.state}`))) from = `${dir}.old`;
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(`${from}/${file}`, 'utf8');
    } catch (error) {
      throw new TrainError('TRAIN_BAD_CHECKPOINT', `${from}/${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`, {
        hint: 'nothing to resume from: run without --resume, or point --out at the directory of an earlier run',
        details: { dir: from, file },
        cause: error,
      });
    }
  };
  const parse = (file: string, text: string): Record<string, unknown> => {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new TrainError('TRAIN_BAD_CHECKPOINT', `${from}/${file}: not valid JSON`, { hint: 'the checkpoint is damaged; start without --resume', cause: error });
    }
  };
  const state = parse(CHECKPOINT_FILES.state, await read(CHECKPOINT_FILES.state)) as unknown as TrainerState;
  if (state.format !== 'lmkit-trainer-state' || state.version !== 1) {
    throw new TrainError('TRAIN_BAD_CHECKPOINT', `${from}/${CHECKPOINT_FILES.state}: not an lmkit trainer state (format ${String(state.format)}, version ${String(state.version)})`);
  }
  const config = parse(CHECKPOINT_FILES.config, await read(CHECKPOINT_FILES.config));
  if (!(await exists(`${from}/${CHECKPOINT_FILES.optimizer}`))) {
    throw new TrainError('TRAIN_BAD_CHECKPOINT', `${from}/${CHECKPOINT_FILES.optimizer}: missing`, { hint: 'the checkpoint is incomplete; start without --resume', details: { dir: from } });
  }
  const file = await readSafetensors(`${from}/${CHECKPOINT_FILES.optimizer}`);
  const master = new Map<string, Float32Array>();
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [key, entry] of file.tensors) {
    const dot = key.indexOf('.');
    const kind = key.slice(0, dot);
    const name = key.slice(dot + 1);
    const values = entryToFloat32(entry, key);
    if (kind === 'master') master.set(name, values);
    else if (kind === 'm') m[name] = values;
    else if (kind === 'v') v[name] = values;
  }
  const step = Number(file.metadata.step);
  return { dir: from, config, master, optimizer: { step: Number.isFinite(step) ? step : 0, m, v }, state };
}
