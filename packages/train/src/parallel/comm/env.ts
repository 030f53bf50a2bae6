// Reads rank, world size and rendezvous address from the environment torchrun, Slurm, Kubernetes and lmkit launch set.
import { CommError } from '../communicator.js';

/** Where this process sits in the job, and where to meet the others. */
export interface DistEnv {
  /** Global rank. */
  rank: number;
  /** Number of processes in the job. */
  worldSize: number;
  /** Rank on this machine (for picking a core set or device). */
  localRank: number;
  /** Host of rank 0's rendezvous. */
  masterAddr: string;
  /** Port of rank 0's rendezvous. */
  masterPort: number;
  /** Which convention supplied rank and world size. */
  source: 'torchrun' | 'slurm' | 'kubernetes' | 'default';
}

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CommError('TRAIN_COMM_BAD_ARGS', `environment ${name}=${JSON.stringify(v)} is not a non-negative integer`, { hint: `fix or unset ${name}` });
  return n;
}

/** Slurm's first host of a nodelist like `node[03-05,07]` or `a,b` → `node03`. */
export function firstSlurmHost(nodelist: string): string {
  const m = /^([^,[]+)(?:\[(\d+)[^\]]*\])?/.exec(nodelist.trim());
  if (!m) return nodelist;
  return m[2] !== undefined ? `${m[1]}${m[2]}` : m[1];
}

/**
 * The distributed environment of this process, read in order of precedence:
 * - torchrun / lmkit launch / Kubeflow PyTorchJob: `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`;
 * - Slurm (srun): `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`, master = first host of `SLURM_JOB_NODELIST` unless `MASTER_ADDR` is set;
 * - Kubernetes Indexed Job / JobSet: `JOB_COMPLETION_INDEX` as rank with `WORLD_SIZE`;
 * - otherwise a single process (rank 0 of 1).
 * Ports default to 29500 (torchrun's). Inconsistent values throw `TRAIN_COMM_BAD_ARGS`.
 *
 * @example
 * const env = resolveDistEnv(); // RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.0.0.1 → { rank: 1, worldSize: 2, ... }
 */
export function resolveDistEnv(env: NodeJS.ProcessEnv = process.env): DistEnv {
  const masterPort = int(env, 'MASTER_PORT') ?? 29500;
  let out: DistEnv;
  if (env.RANK !== undefined && env.WORLD_SIZE !== undefined) {
    out = { rank: int(env, 'RANK')!, worldSize: int(env, 'WORLD_SIZE')!, localRank: int(env, 'LOCAL_RANK') ?? 0, masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort, source: 'torchrun' };
  } else if (env.SLURM_PROCID !== undefined && env.SLURM_NTASKS !== undefined) {
    const host = env.MASTER_ADDR ?? (env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST ? firstSlurmHost((env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST)!) : '127.0.0.1');
    out = { rank: int(env, 'SLURM_PROCID')!, worldSize: int(env, 'SLURM_NTASKS')!, localRank: int(env, 'SLURM_LOCALID') ?? 0, masterAddr: host, masterPort, source: 'slurm' };
  } else if (env.JOB_COMPLETION_INDEX !== undefined && env.WORLD_SIZE !== undefined) {
    out = { rank: int(env, 'JOB_COMPLETION_INDEX')!, worldSize: int(env, 'WORLD_SIZE')!, localRank: 0, masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort, source: 'kubernetes' };
  } else {
    out = { rank: 0, worldSize: 1, localRank: 0, masterAddr: env.MASTER_ADDR ?? '127.0.0.1', masterPort, source: 'default' };
  }
  if (out.worldSize < 1 || out.rank >= out.worldSize) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `environment (${out.source}): rank ${out.rank} is not below world size ${out.worldSize}`, { hint: 'every process needs the same WORLD_SIZE and a distinct RANK in [0, WORLD_SIZE)' });
  }
  return out;
}
