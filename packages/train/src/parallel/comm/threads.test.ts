// The threads backend: the conformance suite with ranks in one thread and in real worker threads, volume counting, and failure.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleForTest } from '../../../test/bundle.js';
import { CommError } from '../communicator.js';
import { runConformance } from './conformance.js';
import { runInProcess, spawnThreads } from './threads.js';

describe('threads communicator', () => {
  for (const N of [1, 2, 3, 4]) {
    it(`passes the conformance suite exactly with ${N} ranks in one thread`, async () => {
      const results = await runInProcess(N, (comm) => runConformance(comm), { channelBytes: 4096 });
      for (const errs of results) for (const [name, e] of Object.entries(errs)) expect(e, name).toBe(0);
    });
  }

  it('sends 2(N−1)/N·n·4 bytes per rank for an f32 all-reduce of n elements', async () => {
    const N = 4;
    const n = 1 << 16;
    const sent = await runInProcess(N, async (comm) => {
      await comm.allReduce(new Float32Array(n));
      return comm.bytesSent();
    });
    for (const b of sent) expect(b).toBe((2 * (N - 1) * n * 4) / N);
  });

  it('passes the conformance suite with 3 ranks in real worker threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmkit-threads-'));
    const entry = await bundleForTest(new URL('../../../test/fixtures/conformance-worker.ts', import.meta.url), join(dir, 'worker.mjs'));
    const results = await spawnThreads<Record<string, number>>(entry, 3);
    expect(results).toHaveLength(3);
    for (const errs of results) for (const [name, e] of Object.entries(errs)) expect(e, name).toBe(0);
  });

  it('fails every other rank fast with TRAIN_COMM_PEER_LOST when one rank throws', async () => {
    const outcome: string[] = [];
    await expect(runInProcess(3, async (comm, r) => {
      if (r === 1) throw new Error('boom on rank 1');
      try {
        await comm.allReduce(new Float32Array(10));
      } catch (e) {
        outcome[r] = (e as CommError).code;
        throw e;
      }
    }, { timeoutMs: 60_000 })).rejects.toThrow();
    await new Promise((res) => setTimeout(res, 200));
    expect(outcome[0]).toBe('TRAIN_COMM_PEER_LOST');
    expect(outcome[2]).toBe('TRAIN_COMM_PEER_LOST');
  });

  it('a worker thread that exits mid-job makes every other worker fail with TRAIN_COMM_PEER_LOST, and the job rejects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmkit-threads-'));
    const entry = await bundleForTest(new URL('../../../test/fixtures/dying-worker.ts', import.meta.url), join(dir, 'worker.mjs'));
    const err = await spawnThreads(entry, 3, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommError);
    expect((err as CommError).code).toBe('TRAIN_COMM_PEER_LOST');
    expect((err as CommError).message).toMatch(/rank 1 .*exited with code 7/);
  });

  it('times out with TRAIN_COMM_TIMEOUT when a peer never joins', async () => {
    const err = await runInProcess(2, async (comm, r) => {
      if (r === 0) await comm.allReduce(new Float32Array(4));
      return null;
    }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommError);
    expect((err as CommError).code).toBe('TRAIN_COMM_TIMEOUT');
  });
});
