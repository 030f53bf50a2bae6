import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeShard } from '../../test/helpers.js';
import { openTokenDataset } from './token-dataset.js';
import { validationWindows, WindowSampler } from './window-sampler.js';

describe('token dataset and window sampler', () => {
  it('reads llm.c shards, splits val by name, samples seeded windows and resumes exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-train-data-'));
    await writeShard(join(dir, 'train_000000.bin'), Array.from({ length: 3000 }, (_, i) => i % 500));
    await writeShard(join(dir, 'train_000001.bin'), Array.from({ length: 1000 }, (_, i) => 1000 + i));
    await writeShard(join(dir, 'val_000000.bin'), Array.from({ length: 300 }, (_, i) => 7));
    const ds = await openTokenDataset(dir);
    expect(ds.train.map((r) => r.tokens.length)).toEqual([3000, 1000]);
    expect(ds.val.map((r) => r.tokens.length)).toEqual([300]);
    expect(ds.maxTokenId).toBe(2000);

    const a = new WindowSampler(ds.train, 65, { seed: 9 });
    const b = new WindowSampler(ds.train, 65, { seed: 9 });
    const first = a.next(4);
    expect(b.next(4)).toEqual(first);
    // every window is a contiguous run of one shard
    for (let w = 0; w < 4; w++) {
      const row = first.subarray(w * 65, (w + 1) * 65);
      for (let i = 1; i < 65; i++) expect(row[i] === row[i - 1] + 1 || (row[i] === 0 && row[i - 1] === 499)).toBe(true);
    }
    const saved = a.state();
    const next = a.next(8);
    const resumed = new WindowSampler(ds.train, 65, { seed: 123 });
    resumed.loadState(saved);
    expect(resumed.next(8)).toEqual(next);
    expect(resumed.state().windowsDrawn).toBe(12);
    expect(new WindowSampler(ds.train, 65, { seed: 10 }).next(4)).not.toEqual(first);

    // shards are sampled in proportion to their start positions
    const s = new WindowSampler(ds.train, 65, { seed: 1 });
    const many = s.next(4000);
    let fromSecond = 0;
    for (let w = 0; w < 4000; w++) if (many[w * 65] >= 1000) fromSecond++;
    expect(fromSecond / 4000).toBeCloseTo(936 / (936 + 2936), 1);

    expect(validationWindows(ds.val, 65, 100)).toHaveLength(4);
  });
  it('holds out the tail when there is no val shard', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-train-data-'));
    await writeShard(join(dir, 'a.bin'), Array.from({ length: 1000 }, (_, i) => i));
    const ds = await openTokenDataset(dir, { valFraction: 0.1 });
    expect(ds.train[0].tokens.length).toBe(900);
    expect(ds.val[0].tokens[0]).toBe(900);
  });
  it('explains empty, damaged and too-small data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-train-data-'));
    await expect(openTokenDataset(dir)).rejects.toMatchObject({ code: 'TRAIN_NO_DATA' });
    await expect(openTokenDataset(join(dir, 'missing'))).rejects.toMatchObject({ code: 'TRAIN_NO_DATA' });
    await writeFile(join(dir, 'bad.bin'), Buffer.alloc(1024 + 3));
    await expect(openTokenDataset(dir)).rejects.toMatchObject({ code: 'DATA_BAD_SHARD', message: expect.stringContaining('bad.bin') });
    const dir2 = await mkdtemp(join(tmpdir(), 'lmkit-train-data-'));
    await writeShard(join(dir2, 'tiny.bin'), [1, 2, 3]);
    const ds = await openTokenDataset(dir2);
    expect(() => new WindowSampler(ds.train, 129)).toThrow(/no shard has 129 tokens/);
  });
});
