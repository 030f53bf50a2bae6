// The tcp backend across real processes on loopback: the conformance suite, byte volume, and a killed peer failing every other rank.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest } from '../../../test/bundle.js';
import { freePort, spawnRanks } from '../../../test/spawn-ranks.js';

let script = '';
beforeAll(async () => {
  script = await bundleForTest(new URL('../../../test/fixtures/tcp-worker.ts', import.meta.url), join(mkdtempSync(join(tmpdir(), 'lmkit-tcp-')), 'worker.mjs'));
});

describe('tcp communicator (processes on loopback)', () => {
  for (const N of [2, 3]) {
    it(`passes the conformance suite exactly with ${N} processes, like the threads backend`, async () => {
      const runs = await spawnRanks(script, N, { args: ['conformance'], masterPort: await freePort() });
      for (const run of runs) {
        expect(run.code, run.stderr).toBe(0);
        const out = JSON.parse(run.stdout.trim()) as { errors: Record<string, number>; bytes: number };
        for (const [name, e] of Object.entries(out.errors)) expect(e, name).toBe(0);
        expect(out.bytes).toBeGreaterThan(0);
      }
    });
  }

  it('a SIGKILLed rank makes every other rank fail with TRAIN_COMM_PEER_LOST within the timeout', async () => {
    const timeoutMs = 20_000;
    const runs = await spawnRanks(script, 3, { args: ['die'], masterPort: await freePort(), env: { LMKIT_TEST_TIMEOUT_MS: String(timeoutMs) } });
    expect(runs[1].signal).toBe('SIGKILL');
    for (const r of [0, 2]) {
      expect(runs[r].code, runs[r].stderr).toBe(1);
      const out = JSON.parse(runs[r].stdout.trim()) as { error: string; message: string; ms: number };
      expect(out.error).toBe('TRAIN_COMM_PEER_LOST');
      expect(out.message).toMatch(/rank 1/);
      expect(out.ms).toBeLessThan(timeoutMs);
    }
  });
});
