// `lmkit launch`: torchrun-style environment per rank and the failing rank's exit code.
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-cli.js';
import { registerLaunchCommand } from './launch.js';

describe('lmkit launch', () => {
  it('runs N processes with RANK and WORLD_SIZE set and exits 0', async () => {
    const run = await runCli([registerLaunchCommand], '--json', 'launch', '--nproc', '2', '--master-port', '29888', '--', process.execPath, '-e', 'process.exit(Number(process.env.WORLD_SIZE) === 2 && process.env.MASTER_PORT === "29888" ? 0 : 9)');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toMatchObject({ nproc: 2, codes: [0, 0], first_failure: -1 });
  });

  it('exits with the failing rank’s code', async () => {
    const run = await runCli([registerLaunchCommand], 'launch', '--nproc', '2', '--', process.execPath, '-e', 'process.exit(process.env.RANK === "1" ? 4 : 0)');
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/rank 1 failed/);
  });

  it('rejects a node rank outside the job', async () => {
    const run = await runCli([registerLaunchCommand], 'launch', '--nproc', '2', '--nnodes', '2', '--node-rank', '2', '--', 'true');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--node-rank 2 must be below --nnodes 2/);
  });
});
