// Runs a pipeline: in this process, on N local worker processes, or as one rank of a Slurm/Kubernetes array; then merges the stats.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { atomicWriteFile, createProgress, type ProgressMode } from '@lmkit/core';
import { DataError } from '../errors.js';
import type { Deduplicator, Step } from '../types.js';
import { isSpec, specType, toSpec, validatePipelineConfig, type PipelineConfig } from './config.js';
import { exists, readJson, runLayout, waitForFiles, writeJson, type BarrierOptions } from './layout.js';
import { deduplicatorFromSpec, stepFromSpec } from './registry.js';
import { renderReport } from './report.js';
import { runRank } from './rank.js';
import { mergeStats, type PipelineStats } from './stats.js';

/** How to run a pipeline. */
export interface RunOptions {
  /** Local worker processes (ranks 0..N-1 of this machine). Default 1: run in this process. */
  workers?: number;
  /** Run only this rank (an array-job task); needs `worldSize`. Rank 0 also merges once every rank is done. */
  rank?: number;
  /** Total ranks when `rank` is given. */
  worldSize?: number;
  /** Progress display. Default `"auto"` (a bar on a TTY). */
  progress?: ProgressMode;
  /** Label of the progress bar. Default `"data"`. */
  label?: string;
  /** Barrier timeouts between de-duplication phases and before merging. */
  barrier?: BarrierOptions;
}

/** What a finished run returns. */
export interface PipelineResult {
  /** Merged stats (or, for a rank other than 0 of an array job, that rank's stats). */
  stats: PipelineStats;
  /** True when `stats.json` and `report.html` were written by this call. */
  merged: boolean;
  outDir: string;
}

/** Imports plugin modules (which register steps) and builds the steps and de-duplicators a config names. */
export async function resolvePipeline(config: PipelineConfig): Promise<{ steps: Step[]; dedups: Deduplicator[] }> {
  for (const plugin of config.plugins ?? []) {
    const specifier = isAbsolute(plugin) || plugin.startsWith('.') ? pathToFileURL(resolve(plugin)).href : plugin;
    try {
      await import(specifier);
    } catch (error) {
      throw new DataError('DATA_BAD_PLUGIN', `cannot load plugin ${plugin}: ${(error as Error).message}`, { hint: 'give a path to an ES module that calls registerStep()', cause: error });
    }
  }
  const steps: Step[] = [];
  for (const entry of config.steps ?? []) steps.push(isSpec(entry) ? await stepFromSpec(toSpec(entry)) : entry);
  const dedups: Deduplicator[] = [];
  for (const entry of config.dedup ?? []) dedups.push(isSpec(entry) ? await deduplicatorFromSpec(toSpec(entry)) : entry);
  const names = [...steps.map((s) => s.name), ...dedups.map((d) => d.name)];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new DataError('DATA_BAD_CONFIG', `step name "${twice}" is used twice`, { hint: 'step names key the stats and exclusion files; give each step a distinct name' });
  return { steps, dedups };
}

/** The serializable description of a config, stored to refuse resuming with different settings or changed inputs. */
async function fingerprint(config: PipelineConfig): Promise<unknown> {
  const describe = (e: unknown): unknown => {
    if (!isSpec(e as never)) return { name: (e as Step).name };
    const spec = toSpec(e as never);
    return { type: specType(spec), options: spec.options ?? {} };
  };
  return {
    inputs: config.inputs.map((p) => resolve(p)),
    // NOTE: checkpoints are byte offsets, so an input that changed size cannot be resumed.
    sizes: await Promise.all(config.inputs.map(async (p) => (await stat(p).catch(() => undefined))?.size ?? null)),
    steps: (config.steps ?? []).map(describe),
    dedup: (config.dedup ?? []).map(describe),
    textField: config.textField ?? 'text',
    idField: config.idField ?? 'id',
    txtMode: config.txtMode ?? 'file',
    compression: config.compression ?? 'none',
  };
}

async function checkFingerprint(config: PipelineConfig, worldSize: number): Promise<void> {
  const layout = runLayout(config.outDir);
  const current = JSON.stringify({ ...((await fingerprint(config)) as object), worldSize });
  const stored = await readJson<unknown>(layout.fingerprint);
  if (stored === undefined) await writeJson(layout.fingerprint, JSON.parse(current));
  else if (JSON.stringify(stored) !== current) {
    throw new DataError('DATA_RESUME_MISMATCH', `${config.outDir} holds a run with different inputs (or input sizes), steps or world size`, {
      hint: 'use a new --out directory, or delete the old one to start over',
      details: { stored, current: JSON.parse(current) },
    });
  }
}

/** Reads every rank's stats, writes `stats.json` and `report.html`, and drops intermediate files. */
export async function mergeRun(config: PipelineConfig, worldSize: number): Promise<PipelineStats> {
  const layout = runLayout(config.outDir);
  const all: PipelineStats[] = [];
  for (let r = 0; r < worldSize; r++) {
    const stats = await readJson<PipelineStats>(layout.rankStats(r));
    if (!stats) throw new DataError('DATA_RANK_MISSING', `rank ${r} has no stats in ${layout.rankStats(r)}`, { hint: 'run the missing rank (it resumes where it stopped)' });
    all.push(stats);
  }
  const merged = mergeStats(all);
  await writeJson(layout.statsJson, merged);
  await atomicWriteFile(layout.report, renderReport(merged));
  if (!config.keepIntermediate) {
    for (let round = 0; round < (config.dedup ?? []).length; round++) await rm(layout.stage(round), { recursive: true, force: true });
  }
  return merged;
}

/** The worker entry for local workers: TypeScript source under vitest/tsx, built JavaScript otherwise. */
function workerEntry(): { path: string; execArgv: string[] } {
  const source = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(source ? './worker-main.ts' : './worker-main.js', import.meta.url));
  const execArgv = source ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];
  return { path, execArgv };
}

async function runLocalWorkers(config: PipelineConfig, workers: number, onProgress: (rank: number, done: number, total: number) => void): Promise<void> {
  if ([...(config.steps ?? []), ...(config.dedup ?? [])].some((e) => !isSpec(e as never))) {
    throw new DataError('DATA_NOT_SERIALIZABLE', 'local workers need steps named by type, not Step objects composed in code', {
      hint: 'register your steps with registerStep() in a module listed in `plugins`, or run with workers: 1',
    });
  }
  const layout = runLayout(config.outDir);
  const configPath = join(layout.state, 'run-config.json');
  await writeJson(configPath, config);
  const { path, execArgv } = workerEntry();
  const children: ChildProcess[] = [];
  const results = Array.from({ length: workers }, (_, rank) => {
    const child = fork(path, [configPath, String(rank), String(workers)], { execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    children.push(child);
    let stderr = '';
    let failure: Record<string, unknown> | undefined;
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('message', (m: { type: string; done?: number; total?: number; error?: Record<string, unknown> }) => {
      if (m.type === 'progress') onProgress(rank, m.done ?? 0, m.total ?? 0);
      if (m.type === 'error') failure = m.error;
    });
    return new Promise<void>((resolveChild, reject) => {
      child.on('exit', (code, signal) => {
        if (code === 0) return resolveChild();
        const message = typeof failure?.message === 'string' ? failure.message : stderr.trim().split('\n').slice(-5).join('\n');
        reject(new DataError('DATA_WORKER_FAILED', `worker rank ${rank} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${message}`, {
          hint: typeof failure?.hint === 'string' ? failure.hint : 'fix the cause and run the same command again: it resumes from the last checkpoint',
          details: { rank, code, signal, ...(failure ? { error: failure } : {}) },
        }));
      });
    });
  });
  try {
    await Promise.all(results);
  } catch (error) {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.allSettled(results);
    throw error;
  }
}

/**
 * Runs a pipeline to completion (resuming whatever an earlier, interrupted run committed) and writes
 * `<outDir>/*.jsonl`, `excluded/`, `stats/<rank>.json`, `stats.json` and `report.html`.
 *
 * @example
 * const { stats } = await runPipeline({ inputs: ['web.jsonl'], outDir: 'clean', steps: ['gopher_quality'], dedup: ['minhash'] }, { workers: 2 });
 */
export async function runPipeline(config: PipelineConfig, options: RunOptions = {}): Promise<PipelineResult> {
  validatePipelineConfig({ ...config, steps: config.steps ?? [], dedup: config.dedup ?? [] }, 'pipeline config');
  const absolute: PipelineConfig = {
    ...config,
    inputs: config.inputs.map((p) => resolve(p)),
    outDir: resolve(config.outDir),
    ...(config.plugins ? { plugins: config.plugins.map((p) => (isAbsolute(p) || p.startsWith('.') ? resolve(p) : p)) } : {}),
  };
  if (absolute.inputs.length === 0) throw new DataError('DATA_NO_INPUT', 'no input files given', { hint: 'pass one or more files' });
  const arrayTask = options.rank !== undefined;
  const worldSize = arrayTask ? (options.worldSize ?? 0) : (options.workers ?? 1);
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new DataError('DATA_BAD_RANK', `world size must be a positive integer, got ${worldSize}`);
  const layout = runLayout(absolute.outDir);
  await checkFingerprint(absolute, worldSize);

  const progress = createProgress({ label: options.label ?? 'data', unit: 'MB', mode: options.progress ?? 'auto' });
  const perRank = new Array<number>(worldSize).fill(0);
  const onProgress = (rank: number, done: number): void => {
    perRank[rank] = done;
    progress.update(+(perRank.reduce((a, b) => a + b, 0) / 1e6).toFixed(2));
  };
  try {
    if (arrayTask || worldSize === 1) {
      const rank = options.rank ?? 0;
      const { steps, dedups } = await resolvePipeline(absolute);
      const stats = await runRank(absolute, { rank, worldSize, steps, dedups, onProgress: (d) => onProgress(rank, d), ...(options.barrier ? { barrier: options.barrier } : {}) });
      if (rank !== 0) return { stats, merged: false, outDir: absolute.outDir };
      await waitForFiles(Array.from({ length: worldSize }, (_, r) => layout.completion(r)), 'all ranks to complete', options.barrier);
    } else {
      await runLocalWorkers(absolute, worldSize, onProgress);
    }
    return { stats: await mergeRun(absolute, worldSize), merged: true, outDir: absolute.outDir };
  } finally {
    progress.stop();
  }
}

/** True when every rank of the run in `outDir` has its completion marker. */
export async function isRunComplete(outDir: string, worldSize: number): Promise<boolean> {
  for (let r = 0; r < worldSize; r++) if (!(await exists(runLayout(outDir).completion(r)))) return false;
  return true;
}
