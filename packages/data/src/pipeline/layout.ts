// Where a pipeline run keeps its files, and the small file-based markers, checkpoints and barriers it coordinates through.
import { access, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { DataError } from '../errors.js';

/** `00003` — ranks and chunk numbers are zero-padded so file names sort. */
export const pad = (n: number): string => String(n).padStart(5, '0');

/** The paths of one run under its output directory. */
export function runLayout(outDir: string) {
  const state = join(outDir, 'state');
  return {
    outDir,
    excluded: join(outDir, 'excluded'),
    stats: join(outDir, 'stats'),
    statsJson: join(outDir, 'stats.json'),
    report: join(outDir, 'report.html'),
    completions: join(outDir, 'completions'),
    completion: (rank: number) => join(outDir, 'completions', pad(rank)),
    rankStats: (rank: number) => join(outDir, 'stats', `${pad(rank)}.json`),
    state,
    fingerprint: join(state, 'config.json'),
    checkpoint: (rank: number) => join(state, 'checkpoints', `${pad(rank)}.json`),
    /** Documents that passed the steps, before de-duplicator `round` (0-based). */
    stage: (round: number) => join(state, `stage${round}`),
    dedup: (round: number) => {
      const base = join(state, `dedup${round}`);
      return {
        work: join(base, 'work'),
        signed: (rank: number) => join(base, 'signed', pad(rank)),
        clustered: join(base, 'clustered.json'),
        filtered: (rank: number, seq: number) => join(base, 'filtered', `${pad(rank)}_${pad(seq)}.json`),
      };
    },
  };
}

/** The layout object type. */
export type RunLayout = ReturnType<typeof runLayout>;

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Parses a JSON file, or undefined when it does not exist. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}

/** Writes a JSON file atomically. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await atomicWriteFile(path, JSON.stringify(value, null, 1) + '\n');
}

/** The chunk files `<rank>_<seq>...` of one rank in `dir`, sorted by seq. */
export async function rankChunks(dir: string, rank: number): Promise<Array<{ path: string; seq: number }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const prefix = `${pad(rank)}_`;
  return names
    .filter((n) => n.startsWith(prefix) && /^\d{5}_\d{5}\.jsonl/.test(n))
    .map((n) => ({ path: join(dir, n), seq: Number(n.slice(6, 11)) }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Deletes this rank's chunk files with seq >= `fromSeq` (output a crash left after the last
 * checkpoint), and the temp files of any interrupted atomic write of this rank's chunks.
 */
export async function removeChunksFrom(dir: string, rank: number, fromSeq: number, prefix = ''): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const head = `${prefix}${pad(rank)}_`;
  const temp = new RegExp(`^\\.([a-z0-9_]+-)?${pad(rank)}_\\d{5}\\.jsonl.*\\.tmp$`);
  for (const name of names) {
    if (temp.test(name)) {
      await rm(join(dir, name), { force: true });
      continue;
    }
    if (!name.startsWith(head)) continue;
    const seq = Number(name.slice(head.length, head.length + 5));
    if (Number.isInteger(seq) && seq >= fromSeq) await rm(join(dir, name), { force: true });
  }
}

/** Options for {@link waitForFiles}. */
export interface BarrierOptions {
  /** Give up after this many milliseconds. Default 24 h. */
  timeoutMs?: number;
  /** Poll interval. Default 100 ms. */
  pollMs?: number;
}

/** Waits until every path exists (a barrier between ranks that share a file system). */
export async function waitForFiles(paths: readonly string[], what: string, options: BarrierOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 24 * 3600_000);
  let missing = [...paths];
  for (;;) {
    const still: string[] = [];
    for (const path of missing) if (!(await exists(path))) still.push(path);
    missing = still;
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new DataError('DATA_BARRIER_TIMEOUT', `timed out waiting for ${what}: ${missing.length} marker(s) missing, e.g. ${missing[0]}`, { hint: 'a rank has not finished; check that every array task runs and shares the output directory' });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
