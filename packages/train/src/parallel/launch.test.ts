// launchProcesses: torchrun-style environment per rank, rank-prefixed output, and a failing rank stopping the others.
import { describe, expect, it } from 'vitest';
import { launchProcesses } from './launch.js';

describe('launchProcesses', () => {
  it('gives each process RANK, WORLD_SIZE, LOCAL_RANK and the master address', async () => {
    const lines: string[] = [];
    const res = await launchProcesses({
      nproc: 3, command: process.execPath, masterPort: 29_777,
      args: ['-e', 'console.log([process.env.RANK, process.env.WORLD_SIZE, process.env.LOCAL_RANK, process.env.MASTER_ADDR, process.env.MASTER_PORT].join(" "))'],
      onLine: (rank, stream, line) => lines.push(`${rank}:${stream}:${line}`),
    });
    expect(res.firstFailure).toBe(-1);
    expect(res.codes).toEqual([0, 0, 0]);
    expect(lines.sort()).toEqual(['0:stdout:0 3 0 127.0.0.1 29777', '1:stdout:1 3 1 127.0.0.1 29777', '2:stdout:2 3 2 127.0.0.1 29777']);
  });

  it('stops the other ranks when one fails, and reports which', async () => {
    const started = Date.now();
    const res = await launchProcesses({
      nproc: 2, command: process.execPath, killGraceMs: 500, onLine: () => undefined,
      args: ['-e', 'if (process.env.RANK === "1") process.exit(3); setTimeout(() => {}, 60000)'],
    });
    expect(res.firstFailure).toBe(1);
    expect(res.codes[1]).toBe(3);
    expect(res.signals[0]).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
