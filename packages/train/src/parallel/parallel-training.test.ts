// parseParallelSpec, and runParallelTraining end to end: the tcp backend across processes gives the same losses as the threads backend.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest } from '../../test/bundle.js';
import { writeShard } from '../../test/helpers.js';
import { SMALL_GPT_CONFIG, smallGpt } from '../../test/parallel-fixtures.js';
import { createModel, type DecoderLM } from '@lmkit/model';
import { freePort, spawnRanks } from '../../test/spawn-ranks.js';
import { openTokenDataset } from '../data/token-dataset.js';
import { causalLm } from '../objectives/causal-lm.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { runParallelTraining } from './parallel-training.js';

describe('parseParallelSpec', () => {
  it('reads keys in any order with defaults and overrides', () => {
    expect(parseParallelSpec('tp=1, dp=2')).toEqual({ dp: 2, pp: 1, tp: 1, zero: 0, schedule: '1f1b', microBatches: 4 });
    expect(parseParallelSpec('pp=4,schedule=gpipe,mb=8')).toMatchObject({ pp: 4, schedule: 'gpipe', microBatches: 8 });
    expect(parseParallelSpec('dp=2', { zero: 3 }).zero).toBe(3);
  });
  it('rejects bad specs with the reason', () => {
    expect(() => parseParallelSpec('dp=two')).toThrow(/dp must be a non-negative integer/);
    expect(parseParallelSpec('dp=2,pp=2')).toMatchObject({ dp: 2, pp: 2 });
    expect(parseParallelSpec('dp=2,pp=2,tp=2')).toMatchObject({ dp: 2, pp: 2, tp: 2 }); // 3D
    expect(parseParallelSpec('pp=2,zero=1')).toMatchObject({ pp: 2, zero: 1 }); // ZeRO 1/2 shard over the dp group of any layout
    expect(() => parseParallelSpec('pp=2,zero=3')).toThrow(/ZeRO-3/);
    expect(() => parseParallelSpec('xp=2')).toThrow(/unknown key "xp"/);
    expect(() => parseParallelSpec('dp=2', { zero: 5 as 3 })).toThrow(/zero must be/);
  });
});

describe('runParallelTraining', () => {
  let dataDir = '';
  let script = '';
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lmkit-ptrain-'));
    await writeShard(join(dataDir, 'train_000000.bin'), Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 3)) % 64));
    await writeShard(join(dataDir, 'val_000000.bin'), Array.from({ length: 200 }, (_, i) => i % 64));
    script = await bundleForTest(new URL('../../test/fixtures/train-worker.ts', import.meta.url), join(dataDir, 'worker.mjs'));
  });

  for (const [specText, N] of [['dp=2', 2], ['dp=2,zero=2', 2], ['dp=2,zero=3', 2], ['pp=2,mb=2', 2], ['tp=2', 2], ['dp=2,tp=2', 4]] as const) {
    it(`${specText}: ${N} tcp processes on loopback give the threads backend's losses`, async () => {
      const dataset = await openTokenDataset(dataDir);
      const threads = await runInProcess(N, async (comm, r) => {
        const losses: number[] = [];
        await runParallelTraining({ comm, spec: parseParallelSpec(specText), model: smallGpt(7 + r), dataset, objective: causalLm(), steps: 3, batchSize: 4, seqLen: 16, schedule: { maxLr: 1e-3 }, onStep: (s) => losses.push(s.loss) });
        return losses;
      });
      const runs = await spawnRanks(script, N, { args: [dataDir, specText], masterPort: await freePort() });
      runs.forEach((run, r) => {
        expect(run.code, run.stderr).toBe(0);
        const out = JSON.parse(run.stdout.trim()) as { losses: number[] };
        expect(out.losses).toEqual(threads[r]);
        expect(out.losses.every(Number.isFinite)).toBe(true);
      });
    });
  }

  it('runParallelThreads (real worker threads, from a bundle) gives the in-process threads losses', async () => {
    const dataset = await openTokenDataset(dataDir);
    const inProcess = await runInProcess(2, async (comm) => {
      const losses: number[] = [];
      await runParallelTraining({ comm, spec: parseParallelSpec('dp=2,zero=1'), model: createModel(SMALL_GPT_CONFIG, { seed: 1337 }) as DecoderLM, dataset, objective: causalLm(), steps: 3, batchSize: 4, seqLen: 16, schedule: { maxLr: 1e-3 }, onStep: (s) => losses.push(s.loss) });
      return losses;
    });
    const bundle = await bundleForTest(new URL('../../test/fixtures/threads-train.ts', import.meta.url), join(dataDir, 'threads-train.mjs'));
    const [run] = await spawnRanks(bundle, 1, { args: [dataDir, 'dp=2,zero=1'], masterPort: 1 });
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim()) as { losses: number[][]; params: number };
    expect(out.losses).toEqual(inProcess);
    expect(out.params).toBe(smallGpt().parameters().reduce((n, t) => n + t.size, 0));
  });
});
