// The pipeline runner: two workers = one, Slurm-style ranks = one process, resume after SIGKILL = uninterrupted, stats and report.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPipelineConfig, rankFromEnv, runPipeline, type PipelineConfig, type PipelineStats } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-pipeline-'));
const plugin = new URL('./test-plugin.fixture.ts', import.meta.url).pathname;

/** Deterministic corpus: unique docs, exact copies, near-duplicates (one word changed), short docs, bad lines. */
function corpus(n: number, seed: number): string[] {
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

/** Every output document as a sorted list of JSON lines, read from `outDir/*.jsonl`. */
function outputDocs(outDir: string): string[] {
  return readdirSync(outDir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(outDir, f), 'utf8').split('\n').filter(Boolean))
    .sort();
}

function excludedDocs(outDir: string): string[] {
  const ex = join(outDir, 'excluded');
  return readdirSync(ex)
    .flatMap((f) => readFileSync(join(ex, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => {
      const { id, step, reason, location } = JSON.parse(l) as Record<string, string>;
      return JSON.stringify({ id, step, reason, location });
    })
    .sort();
}

const counts = (stats: PipelineStats) => stats.steps.map(({ name, in: n, kept, dropped, reasons }) => ({ name, n, kept, dropped, reasons }));

let inputs: string[];
const config = (outDir: string, extra: Partial<PipelineConfig> = {}): PipelineConfig => ({
  inputs,
  outDir,
  steps: [{ type: 'test_min_words', options: { min: 5 } }, 'test_tag'],
  dedup: ['exact', { type: 'minhash' }],
  plugins: [plugin],
  chunkBytes: 20_000,
  ...extra,
});

beforeAll(() => {
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, corpus(900, 1).join('\n') + '\n');
  const gz = join(dir, 'small.jsonl.gz');
  writeFileSync(gz, gzipSync(corpus(200, 2).join('\n') + '\n'));
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'a plain text note with more than five words in it');
  inputs = [big, gz, txt];
});

describe('runPipeline', () => {
  let one: Awaited<ReturnType<typeof runPipeline>>;

  it('runs steps and both de-duplicators in one process and writes stats, report and exclusions', async () => {
    one = await runPipeline(config(join(dir, 'one')), { progress: 'silent' });
    const stats = one.stats;
    expect(stats.steps.map((s) => s.name)).toEqual(['reader', 'test_min_words', 'test_tag', 'exact', 'minhash']);
    const reader = stats.steps[0]!;
    expect(reader.in).toBe(1101);
    expect(reader.reasons.bad_json).toBeGreaterThan(0);
    expect(stats.steps[1]!.reasons.too_few_words).toBeGreaterThan(50);
    expect(stats.steps[3]!.dropped).toBeGreaterThan(50); // exact copies
    expect(stats.steps[4]!.dropped).toBeGreaterThan(50); // one-word-changed copies
    const docs = outputDocs(one.outDir);
    expect(docs.length).toBe(stats.outputDocuments);
    expect(new Set(docs.map((d) => JSON.parse(d).text)).size).toBe(docs.length);
    expect(docs.every((d) => JSON.parse(d).tagged === true)).toBe(true);
    const excluded = excludedDocs(one.outDir);
    expect(excluded.length).toBe(stats.steps.reduce((n, s) => n + s.dropped, 0));
    expect(excluded.some((e) => e.includes('"step":"reader"') && /big\.jsonl:\d+/.test(e))).toBe(true);
    expect(JSON.parse(readFileSync(join(one.outDir, 'stats.json'), 'utf8'))).toEqual(stats);
    const report = readFileSync(join(one.outDir, 'report.html'), 'utf8');
    expect(report).toContain('<svg');
    expect(report).toContain('minhash');
    expect(report).not.toMatch(/src=|href=/);
    expect(existsSync(join(one.outDir, 'completions', '00000'))).toBe(true);
    expect(existsSync(join(one.outDir, 'state', 'stage0'))).toBe(false);
  });

  it('gives the same documents with two local workers (config from YAML)', async () => {
    const yamlPath = join(dir, 'pipeline.yaml');
    writeFileSync(yamlPath, stringify(config(join(dir, 'two'))));
    const two = await runPipeline(await loadPipelineConfig(yamlPath), { workers: 2, progress: 'silent' });
    expect(two.stats.ranks).toBe(2);
    expect(outputDocs(two.outDir)).toEqual(outputDocs(one.outDir));
    expect(excludedDocs(two.outDir)).toEqual(excludedDocs(one.outDir));
    expect(counts(two.stats)).toEqual(counts(one.stats));
    expect(readdirSync(join(two.outDir, 'stats')).sort()).toEqual(['00000.json', '00001.json']);
  });

  it('gives the same documents as three array-job ranks (Slurm / Kubernetes style)', async () => {
    const out = join(dir, 'array');
    const ranks = [2, 1, 0].map((rank) => runPipeline(config(out), { rank, worldSize: 3, progress: 'silent' }));
    const results = await Promise.all(ranks);
    expect(results.map((r) => r.merged)).toEqual([false, false, true]);
    expect(outputDocs(out)).toEqual(outputDocs(one.outDir));
    expect(counts(results[2]!.stats)).toEqual(counts(one.stats));
  });

  it('resumes after SIGKILL mid-file without losing or duplicating a document', async () => {
    const out = join(dir, 'killed');
    const cfg = config(out, { steps: [{ type: 'test_min_words', options: { min: 5 } }, 'test_tag', { type: 'test_slow', options: { ms: 2 } }], chunkBytes: 8_000 });
    const reference = await runPipeline(config(join(dir, 'reference'), { steps: cfg.steps!, chunkBytes: 8_000 }), { progress: 'silent' });
    // Start the run as its own process (what a worker or array task is), wait for a few commits, kill it hard.
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(out, 'state'), { recursive: true });
    await writeFile(join(out, 'state', 'run-config.json'), JSON.stringify(cfg));
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const child = spawn(process.execPath, ['--import', tsx, new URL('./worker-main.ts', import.meta.url).pathname, join(out, 'state', 'run-config.json'), '0', '1'], { stdio: 'ignore' });
    const checkpoint = join(out, 'state', 'checkpoints', '00000.json');
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      if (existsSync(checkpoint) && JSON.parse(readFileSync(checkpoint, 'utf8')).seq >= 4) break;
      if (child.exitCode !== null) throw new Error('the run finished before it could be killed');
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ckpt = JSON.parse(readFileSync(checkpoint, 'utf8'));
    expect(ckpt.stage1Done).toBe(false);
    expect(ckpt.slice).toBe(0); // killed inside big.jsonl
    const resumed = await runPipeline(cfg, { progress: 'silent' });
    expect(outputDocs(out)).toEqual(outputDocs(reference.outDir));
    expect(excludedDocs(out)).toEqual(excludedDocs(reference.outDir));
    expect(counts(resumed.stats)).toEqual(counts(reference.stats));
  });

  it('is idempotent once complete and refuses to resume with a different pipeline', async () => {
    const again = await runPipeline(config(join(dir, 'one')), { progress: 'silent' });
    expect(counts(again.stats)).toEqual(counts(one.stats));
    await expect(runPipeline(config(join(dir, 'one'), { dedup: ['exact'] }), { progress: 'silent' })).rejects.toMatchObject({ code: 'DATA_RESUME_MISMATCH' });
    await expect(runPipeline(config(join(dir, 'x'), { steps: ['nope'] }), { progress: 'silent' })).rejects.toMatchObject({ code: 'DATA_UNKNOWN_STEP' });
  });

  it('reports a failing worker with its error', async () => {
    await expect(runPipeline(config(join(dir, 'bad-worker'), { steps: ['nope'] }), { workers: 2, progress: 'silent' })).rejects.toMatchObject({
      code: 'DATA_WORKER_FAILED',
      message: expect.stringContaining('unknown step type "nope"'),
    });
  });
});

describe('span de-duplication through the runner', () => {
  it('removes repeated 3-sentence spans after the first occurrence, the same with 2 ranks as with 1', async () => {
    const boiler = 'Subscribe to our newsletter today. All rights are reserved by the owners. Read our privacy notice now.';
    // NOTE: dedup normalization maps digits to 0, so sentences differ by words, not numbers.
    const word = (n: number): string => (n + 1).toString(26).replace(/[0-9]/g, (c) => 'qrstuvwxyz'[Number(c)]!);
    const unique = (d: number) => Array.from({ length: 12 }, (_, i) => `Document ${word(d)} sentence ${word(i)} talks about topic ${word(d * 100 + i)} in plain words.`).join(' ');
    const path = join(dir, 'spans.jsonl');
    writeFileSync(path, Array.from({ length: 30 }, (_, d) => JSON.stringify({ id: `doc${d}`, text: `${unique(d)} ${boiler}` })).join('\n') + '\n');
    const cfg = (out: string): PipelineConfig => ({ inputs: [path], outDir: join(dir, out), dedup: ['sentence_dedup'], chunkBytes: 3000 });
    const single = await runPipeline(cfg('spans1'), { progress: 'silent' });
    await Promise.all([1, 0].map((rank) => runPipeline(cfg('spans2'), { rank, worldSize: 2, progress: 'silent' })));
    const docs = outputDocs(single.outDir).map((l) => JSON.parse(l) as { id: string; text: string });
    expect(outputDocs(join(dir, 'spans2'))).toEqual(outputDocs(single.outDir));
    expect(docs.length).toBe(30);
    expect(docs.filter((d) => d.text.includes('Subscribe to our newsletter'))).toHaveLength(1);
    expect(docs.find((d) => d.text.includes('Subscribe'))?.id).toBe('doc0');
    expect(single.stats.steps.at(-1)).toMatchObject({ name: 'sentence_dedup', in: 30, kept: 30, dropped: 0 });
  });
});

describe('rankFromEnv', () => {
  it('reads Slurm, Kubernetes and lmkit variables', () => {
    expect(rankFromEnv({})).toBeUndefined();
    expect(rankFromEnv({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ rank: 4, worldSize: 8, source: 'slurm' });
    expect(rankFromEnv({ JOB_COMPLETION_INDEX: '2', LMKIT_WORLD_SIZE: '4' })).toEqual({ rank: 2, worldSize: 4, source: 'kubernetes' });
    expect(rankFromEnv({ JOB_COMPLETION_INDEX: '2' }, 3)).toEqual({ rank: 2, worldSize: 3, source: 'kubernetes' });
    expect(() => rankFromEnv({ JOB_COMPLETION_INDEX: '2' })).toThrow(/world size/);
    expect(() => rankFromEnv({ SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(/not in \[0, 4\)/);
    expect(rankFromEnv({ LMKIT_RANK: '0', LMKIT_WORLD_SIZE: '1' })).toEqual({ rank: 0, worldSize: 1, source: 'lmkit' });
  });
});
