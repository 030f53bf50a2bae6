// resolveDistEnv: torchrun, Slurm and Kubernetes conventions, precedence and bad values.
import { describe, expect, it } from 'vitest';
import { firstSlurmHost, resolveDistEnv } from './env.js';

describe('resolveDistEnv', () => {
  it('reads torchrun / lmkit launch variables', () => {
    expect(resolveDistEnv({ RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', MASTER_ADDR: '10.0.0.5', MASTER_PORT: '29501' })).toEqual({
      rank: 3, worldSize: 8, localRank: 1, masterAddr: '10.0.0.5', masterPort: 29501, source: 'torchrun',
    });
  });
  it('reads Slurm variables and takes the master from the node list', () => {
    expect(resolveDistEnv({ SLURM_PROCID: '5', SLURM_NTASKS: '6', SLURM_LOCALID: '2', SLURM_JOB_NODELIST: 'gpu[07-09,12]' })).toEqual({
      rank: 5, worldSize: 6, localRank: 2, masterAddr: 'gpu07', masterPort: 29500, source: 'slurm',
    });
    expect(firstSlurmHost('a1,b2')).toBe('a1');
  });
  it('prefers RANK/WORLD_SIZE over Slurm, and reads a Kubernetes indexed job', () => {
    expect(resolveDistEnv({ RANK: '0', WORLD_SIZE: '2', SLURM_PROCID: '1', SLURM_NTASKS: '4' }).source).toBe('torchrun');
    expect(resolveDistEnv({ JOB_COMPLETION_INDEX: '2', WORLD_SIZE: '4', MASTER_ADDR: 'job-0.svc' })).toMatchObject({ rank: 2, worldSize: 4, masterAddr: 'job-0.svc', source: 'kubernetes' });
  });
  it('defaults to a single process, and rejects bad values with the variable named', () => {
    expect(resolveDistEnv({})).toMatchObject({ rank: 0, worldSize: 1, source: 'default' });
    expect(() => resolveDistEnv({ RANK: 'x', WORLD_SIZE: '2' })).toThrow(/RANK="x"/);
    expect(() => resolveDistEnv({ RANK: '2', WORLD_SIZE: '2' })).toThrow(/rank 2 is not below world size 2/);
  });
});
