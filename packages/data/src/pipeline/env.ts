// Rank and world size from the environment that Slurm array jobs and Kubernetes Indexed Jobs set.
import { DataError } from '../errors.js';

/** A worker's place in a sharded run. */
export interface RankInfo {
  rank: number;
  worldSize: number;
  /** Which variable gave the rank. */
  source: 'slurm' | 'kubernetes' | 'lmkit';
}

/**
 * Reads the rank from `SLURM_ARRAY_TASK_ID` (minus `SLURM_ARRAY_TASK_MIN`, with
 * `SLURM_ARRAY_TASK_COUNT` as world size), `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job; the world
 * size comes from `worldSize` or `LMKIT_WORLD_SIZE`, since Kubernetes does not export the completion
 * count), or `LMKIT_RANK`/`LMKIT_WORLD_SIZE`. Returns undefined when none is set.
 */
export function rankFromEnv(env: NodeJS.ProcessEnv = process.env, worldSize?: number): RankInfo | undefined {
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new DataError('DATA_BAD_RANK', `${name}=${raw} is not a non-negative integer`);
    return n;
  };
  const check = (info: RankInfo): RankInfo => {
    if (!(info.worldSize >= 1) || info.rank >= info.worldSize) {
      throw new DataError('DATA_BAD_RANK', `rank ${info.rank} from ${info.source} is not in [0, ${info.worldSize})`, { hint: 'set the world size to the number of array tasks / completions' });
    }
    return info;
  };
  const slurmId = int('SLURM_ARRAY_TASK_ID');
  if (slurmId !== undefined) {
    const count = worldSize ?? int('SLURM_ARRAY_TASK_COUNT');
    if (count === undefined) throw new DataError('DATA_BAD_RANK', 'SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not', { hint: 'pass --world-size' });
    return check({ rank: slurmId - (int('SLURM_ARRAY_TASK_MIN') ?? 0), worldSize: count, source: 'slurm' });
  }
  const k8s = int('JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    const count = worldSize ?? int('LMKIT_WORLD_SIZE');
    if (count === undefined) throw new DataError('DATA_BAD_RANK', 'JOB_COMPLETION_INDEX is set but the world size is unknown', { hint: 'pass --world-size or set LMKIT_WORLD_SIZE to the Job\'s completions' });
    return check({ rank: k8s, worldSize: count, source: 'kubernetes' });
  }
  const rank = int('LMKIT_RANK');
  if (rank !== undefined) {
    const count = worldSize ?? int('LMKIT_WORLD_SIZE');
    if (count === undefined) throw new DataError('DATA_BAD_RANK', 'LMKIT_RANK is set but LMKIT_WORLD_SIZE is not');
    return check({ rank, worldSize: count, source: 'lmkit' });
  }
  return undefined;
}
