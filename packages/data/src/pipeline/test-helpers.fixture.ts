// Shared pieces of the pipeline tests: a corpus with known duplicates and bad lines, output readers, and a rank process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { PipelineConfig, PipelineStats } from '../index.js';

const plugin = fileURLToPath(new URL('./test-plugin.fixture.ts', import.meta.url));

/** Deterministic corpus: unique docs, exact copies, near-duplicates (one word changed), short docs, bad lines. */
export function corpus(n: number, seed: number): string[] {
  let s = seed;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const vocab = Array.from({ length: 500 }, (_, i) => `w${i.toString(36)}`);
  const base = (): string => Array.from({ length: 120 }, () => vocab[Math.floor(rand() * vocab.length)]).join(' ');
  const lines: string[] = [];
  const made: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    let text: string;
    if (r < 0.15 && made.length > 0) text = made[Math.floor(rand() * made.length)]!;
    else if (r < 0.3 && made.length > 0) {
      const words = made[Math.floor(rand() * made.length)]!.split(' ');
      words[Math.floor(rand() * words.length)] = 'changed';
      text = words.join(' ');
    } else if (r < 0.4) text = 'too short';
    else text = base();
    made.push(text);
    lines.push(r > 0.98 ? '{"text": broken' : JSON.stringify({ text, n: i }));
  }
  return lines;
}

/** Writes the test inputs (a big splittable JSONL, a .gz, a .txt) into a fresh directory. */
export function makeInputs(prefix: string): { dir: string; inputs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, corpus(900, 1).join('\n') + '\n');
  const gz = join(dir, 'small.jsonl.gz');
  writeFileSync(gz, gzipSync(corpus(200, 2).join('\n') + '\n'));
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'a plain text note with more than five words in it');
  return { dir, inputs: [big, gz, txt] };
}

/** The test pipeline: two plugin steps, then exact and MinHash dedup. */
export function testConfig(inputs: string[], outDir: string, extra: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    inputs,
    outDir,
    steps: [{ type: 'test_min_words', options: { min: 5 } }, 'test_tag'],
    dedup: ['exact', { type: 'minhash' }],
    plugins: [plugin],
    chunkBytes: 20_000,
    ...extra,
  };
}

/** Every output document as a sorted list of JSON lines, read from `outDir/*.jsonl`. */
export function outputDocs(outDir: string): string[] {
  return readdirSync(outDir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(outDir, f), 'utf8').split('\n').filter(Boolean))
    .sort();
}

/** Every exclusion record (id, step, reason, location), sorted. */
export function excludedDocs(outDir: string): string[] {
  const ex = join(outDir, 'excluded');
  return readdirSync(ex)
    .flatMap((f) => readFileSync(join(ex, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => {
      const { id, step, reason, location } = JSON.parse(l) as Record<string, string>;
      return JSON.stringify({ id, step, reason, location });
    })
    .sort();
}

/** The counts of a run's stats, without timings. */
export const counts = (stats: PipelineStats) => stats.steps.map(({ name, in: n, kept, dropped, reasons }) => ({ name, n, kept, dropped, reasons }));

/** Starts rank 0 of 1 of `cfg` as its own process (what a local worker or an array task is). */
export function spawnRank(cfg: PipelineConfig): ChildProcess {
  mkdirSync(join(cfg.outDir, 'state'), { recursive: true });
  writeFileSync(join(cfg.outDir, 'state', 'run-config.json'), JSON.stringify(cfg));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return spawn(process.execPath, ['--import', tsx, fileURLToPath(new URL('./worker-main.ts', import.meta.url)), join(cfg.outDir, 'state', 'run-config.json'), '0', '1'], { stdio: 'ignore' });
}
