// Resumability: a run killed with SIGKILL at any moment, then run again, gives exactly the uninterrupted run's output.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type PipelineConfig } from '../index.js';
import { counts, excludedDocs, makeInputs, outputDocs, spawnRank, testConfig } from './test-helpers.fixture.js';

const { dir, inputs } = makeInputs('lmkit-resume-');
// A slow step (1 ms per document) so that a kill lands in the middle of the big file; small chunks so there are many commits.
const slowConfig = (out: string): PipelineConfig =>
  testConfig(inputs, join(dir, out), { steps: [{ type: 'test_min_words', options: { min: 5 } }, 'test_tag', { type: 'test_slow', options: { ms: 1 } }], chunkBytes: 8_000 });

let reference: Awaited<ReturnType<typeof runPipeline>>;
beforeAll(async () => {
  reference = await runPipeline(slowConfig('reference'), { progress: 'silent' });
});

describe('resume', () => {
  it('resumes after SIGKILL mid-file without losing or duplicating a document', async () => {
    const cfg = slowConfig('killed');
    const out = cfg.outDir;
    // Start the run as its own process, wait for a few commits, kill it hard.
    const child = spawnRank(cfg);
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

  it('survives SIGKILLs in every phase: steps, exact and MinHash signatures, clustering, filtering', async () => {
    const cfg = slowConfig('killed-often');
    const out = cfg.outDir;
    const state = join(out, 'state');
    // Each restart is killed as soon as the next phase's marker appears, i.e. while that phase's successor runs.
    const markers = [
      () => (JSON.parse(readFileSync(join(state, 'checkpoints', '00000.json'), 'utf8')) as { seq: number }).seq >= 2,
      () => existsSync(join(state, 'dedup0', 'signed', '00000')),
      () => existsSync(join(state, 'dedup0', 'clustered.json')),
      () => existsSync(join(state, 'dedup1', 'signed', '00000')),
      () => existsSync(join(state, 'dedup1', 'clustered.json')),
    ];
    let killedRunning = 0;
    for (const reached of markers) {
      const child = spawnRank(cfg);
      const exited = new Promise((r) => child.once('exit', r));
      for (;;) {
        let hit = false;
        try {
          hit = reached();
        } catch {
          // checkpoint not written yet
        }
        if (hit || child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      if (child.exitCode === null) killedRunning++;
      child.kill('SIGKILL');
      await exited;
    }
    const resumed = await runPipeline(cfg, { progress: 'silent' });
    expect(outputDocs(out)).toEqual(outputDocs(reference.outDir));
    expect(excludedDocs(out)).toEqual(excludedDocs(reference.outDir));
    expect(counts(resumed.stats)).toEqual(counts(reference.stats));
    expect(killedRunning).toBeGreaterThanOrEqual(3);
  });
});
