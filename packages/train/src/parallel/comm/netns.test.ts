// The tcp backend between hosts in two Linux network namespaces joined by a veth pair (root only; skipped with the reason otherwise).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleForTest } from '../../../test/bundle.js';
import { spawnRanks } from '../../../test/spawn-ranks.js';

// NOTE: the only addresses used are the namespaces' own veth addresses (10.213.N.1/.2); nothing outside them is touched.
const tag = `lmkit${process.pid % 100_000}`;
const ns = [`${tag}a`, `${tag}b`];
const subnet = `10.213.${process.pid % 250}`;
const addr = [`${subnet}.1`, `${subnet}.2`];

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** Creates both namespaces and the veth link; returns why it cannot, or null. */
function setUp(): string | null {
  try {
    ip('netns', 'add', ns[0]);
    ip('netns', 'add', ns[1]);
    ip('link', 'add', `${tag}x`, 'netns', ns[0], 'type', 'veth', 'peer', 'name', `${tag}y`, 'netns', ns[1]);
    for (const [i, dev] of [`${tag}x`, `${tag}y`].entries()) {
      ip('-n', ns[i], 'addr', 'add', `${addr[i]}/24`, 'dev', dev);
      ip('-n', ns[i], 'link', 'set', dev, 'up');
      ip('-n', ns[i], 'link', 'set', 'lo', 'up');
    }
    return null;
  } catch (e) {
    return `ip netns is not permitted here: ${(e as Error).message.split('\n')[0]}`;
  }
}

const skipReason = process.getuid?.() === 0 ? setUp() : 'needs root to create network namespaces';

afterAll(() => {
  for (const n of ns) {
    try {
      ip('netns', 'del', n);
    } catch {
      // already gone
    }
  }
});

describe('tcp communicator between network namespaces', () => {
  it.skipIf(skipReason !== null)(`runs the conformance suite with one rank per namespace over veth${skipReason ? ` (skipped: ${skipReason})` : ''}`, async () => {
    const script = await bundleForTest(new URL('../../../test/fixtures/tcp-worker.ts', import.meta.url), join(mkdtempSync(join(tmpdir(), 'lmkit-netns-')), 'worker.mjs'));
    const runs = await spawnRanks(script, 2, { args: ['conformance'], masterAddr: addr[0], masterPort: 29_611, prefix: (r) => ['ip', 'netns', 'exec', ns[r]] });
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim()) as { errors: Record<string, number> };
      for (const [name, e] of Object.entries(out.errors)) expect(e, name).toBe(0);
    }
  });
});
