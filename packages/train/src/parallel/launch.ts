// Starts N local processes of one command with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) and stops them all when one fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { CommError } from './communicator.js';

/** Options for {@link launchProcesses}. */
export interface LaunchOptions {
  /** Processes to start. Required. */
  nproc: number;
  /** Executable. Required. */
  command: string;
  /** Its arguments. Default []. */
  args?: string[];
  /** Rendezvous host (rank 0 listens there). Default '127.0.0.1'. */
  masterAddr?: string;
  /** Rendezvous port. Default 29500. */
  masterPort?: number;
  /** First global rank on this machine (multi-node: node_rank · nproc). Default 0. */
  rankOffset?: number;
  /** Total processes across machines. Default nproc. */
  worldSize?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Receives each output line with its rank; default writes `[rank] line` to this process's stdout/stderr. */
  onLine?: (rank: number, stream: 'stdout' | 'stderr', line: string) => void;
  /** After the first failure, wait this long before SIGKILL (after SIGTERM). Default 5000 ms. */
  killGraceMs?: number;
}

/** How each process ended. */
export interface LaunchResult {
  /** Exit code per local rank (null when killed by a signal). */
  codes: (number | null)[];
  /** Signal per local rank, if any. */
  signals: (NodeJS.Signals | null)[];
  /** The first rank that failed, or -1. */
  firstFailure: number;
}

/**
 * Runs `command args` as ranks rankOffset … rankOffset+nproc−1, like `torchrun --nproc-per-node`:
 * each child gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT;
 * output lines are prefixed with the rank; when one exits non-zero the rest get SIGTERM (then
 * SIGKILL after the grace period), so a crashed rank never leaves the others hanging.
 *
 * @example
 * const { firstFailure } = await launchProcesses({ nproc: 2, command: 'lmkit', args: ['train', '--config', 'run.json', '--parallel', 'dp=2', '--backend', 'tcp'] });
 */
export function launchProcesses(options: LaunchOptions): Promise<LaunchResult> {
  const n = options.nproc;
  if (!(Number.isInteger(n) && n >= 1)) throw new CommError('TRAIN_COMM_BAD_ARGS', `launch: --nproc must be a positive integer, got ${n}`);
  const worldSize = options.worldSize ?? n;
  const offset = options.rankOffset ?? 0;
  if (offset + n > worldSize) throw new CommError('TRAIN_COMM_BAD_ARGS', `launch: ranks ${offset}..${offset + n - 1} do not fit in world size ${worldSize}`);
  const onLine = options.onLine ?? ((rank, stream, line) => (stream === 'stdout' ? process.stdout : process.stderr).write(`[${rank}] ${line}\n`));
  const codes = new Array<number | null>(n).fill(null);
  const signals = new Array<NodeJS.Signals | null>(n).fill(null);
  let firstFailure = -1;
  let left = n;
  return new Promise((resolve, reject) => {
    const children: ChildProcess[] = [];
    const stopAll = (): void => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      setTimeout(() => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }, options.killGraceMs ?? 5000).unref();
    };
    for (let local = 0; local < n; local++) {
      const rank = offset + local;
      const child = spawn(options.command, options.args ?? [], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env, ...options.env,
          RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(n),
          MASTER_ADDR: options.masterAddr ?? '127.0.0.1', MASTER_PORT: String(options.masterPort ?? 29500),
        },
      });
      children.push(child);
      for (const stream of ['stdout', 'stderr'] as const) {
        let pending = '';
        child[stream]!.on('data', (c: Buffer) => {
          const lines = (pending + c.toString()).split('\n');
          pending = lines.pop()!;
          for (const line of lines) onLine(rank, stream, line);
        });
        child[stream]!.on('end', () => pending && onLine(rank, stream, pending));
      }
      child.on('error', (e) => reject(new CommError('TRAIN_COMM_BAD_ARGS', `launch: cannot start "${options.command}": ${e.message}`, { hint: 'check the command after --' })));
      child.on('close', (code, signal) => {
        codes[local] = code;
        signals[local] = signal;
        if ((code !== 0 || signal) && firstFailure < 0) {
          firstFailure = rank;
          stopAll();
        }
        if (--left === 0) resolve({ codes, signals, firstFailure });
      });
    }
  });
}
