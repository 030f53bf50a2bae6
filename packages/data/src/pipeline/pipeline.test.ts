// The pipeline runner: two workers = one, Slurm-style ranks = one process, stats, report, exclusions and errors.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPipelineConfig, rankFromEnv, runPipeline, type PipelineConfig } from '../index.js';
import { counts, excludedDocs, makeInputs, outputDocs, testConfig } from './test-helpers.fixture.js';

const { dir, inputs } = makeInputs('lmkit-pipeline-');
const config = (outDir: string, extra: Partial<PipelineConfig> = {}): PipelineConfig => testConfig(inputs, outDir, extra);

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

  it('is idempotent once complete and refuses to resume with a different pipeline', async () => {
    const again = await runPipeline(config(join(dir, 'one')), { progress: 'silent' });
    expect(counts(again.stats)).toEqual(counts(one.stats));
    await expect(runPipeline(config(join(dir, 'one'), { dedup: ['exact'] }), { progress: 'silent' })).rejects.toMatchObject({ code: 'DATA_RESUME_MISMATCH' });
    await expect(runPipeline(config(join(dir, 'x'), { steps: ['nope'] }), { progress: 'silent' })).rejects.toMatchObject({ code: 'DATA_UNKNOWN_STEP' });
    // An input that changed size since the run started cannot be resumed from byte offsets.
    const grown = join(dir, 'grown.jsonl');
    writeFileSync(grown, '{"text":"one two three four five six"}\n');
    await runPipeline(config(join(dir, 'grown'), { inputs: [grown] }), { progress: 'silent' });
    writeFileSync(grown, '{"text":"one two three four five six"}\n{"text":"seven"}\n');
    await expect(runPipeline(config(join(dir, 'grown'), { inputs: [grown] }), { progress: 'silent' })).rejects.toMatchObject({ code: 'DATA_RESUME_MISMATCH' });
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
