// Starts N node processes with torchrun-style environment (RANK, WORLD_SIZE, MASTER_*) for the tcp tests, and collects their output.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** One finished rank process. */
export interface RankRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A free loopback TCP port (listen on 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs `node script ...args` as ranks 0..N−1 with `prefix` (e.g. `ip netns exec ns0`) per rank when given. */
export function spawnRanks(script: string, worldSize: number, opts: { args?: string[]; env?: Record<string, string>; masterAddr?: string; masterPort: number; prefix?: (rank: number) => string[] }): Promise<RankRun[]> {
  return Promise.all(Array.from({ length: worldSize }, (_, rank) => new Promise<RankRun>((resolve) => {
    const pre = opts.prefix?.(rank) ?? [];
    const argv = [...pre, process.execPath, script, ...(opts.args ?? [])];
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, ...opts.env, RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank), MASTER_ADDR: opts.masterAddr ?? '127.0.0.1', MASTER_PORT: String(opts.masterPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  })));
}
