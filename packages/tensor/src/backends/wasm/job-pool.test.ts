// Tests of WasmJobPool on a tiny hand-assembled module: jobs run on workers and the caller, take-back, typed errors, close.
import { describe, expect, it } from 'vitest';
import { WasmJobPool, type WasmJobFailure } from './job-pool';

/**
 * (module (import "env" "memory" (memory 1 1 shared))
 *   (func (export "work") (param $job i32)
 *     (if (i32.lt_s (i32.load (local.get $job)) (i32.const 0)) (then unreachable))
 *     (i32.store offset=4 (local.get $job) (i32.mul (i32.load (local.get $job)) (i32.const 2)))))
 */
const WORK_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,
  0x02, 0x10, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x01,
  0x03, 0x02, 0x01, 0x00,
  0x07, 0x08, 0x01, 0x04, 0x77, 0x6f, 0x72, 0x6b, 0x00, 0x00,
  0x0a, 0x1d, 0x01, 0x1b, 0x00,
  0x20, 0x00, 0x28, 0x02, 0x00, 0x41, 0x00, 0x48, 0x04, 0x40, 0x00, 0x0b,
  0x20, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x41, 0x02, 0x6c, 0x36, 0x02, 0x04, 0x0b,
]);

class PoolTestError extends Error {
  constructor(readonly failure: WasmJobFailure) {
    super(`${failure.kind}: ${failure.message}`);
  }
}

function setup(jobExport = 'work') {
  const module = new WebAssembly.Module(WORK_WASM);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const work = new WebAssembly.Instance(module, { env: { memory } }).exports.work as (job: number) => void;
  const pool = new WasmJobPool({ module, memory, jobExport, createError: (failure) => new PoolTestError(failure) });
  return { pool, work, i32: new Int32Array(memory.buffer) };
}

/** Runs the caller's own job, then waits (bounded) until the workers have run `expected` jobs, so none is taken back. */
function waitForWorkers(pool: WasmJobPool, work: (job: number) => void, expected: number): (job: number) => void {
  return (job) => {
    work(job);
    const end = Date.now() + 10_000;
    while (pool.workerJobs() < expected && Date.now() < end);
  };
}

describe('WasmJobPool', () => {
  it('runs one job on the caller and the rest on workers, synchronously', async () => {
    const { pool, work, i32 } = setup();
    await pool.grow(2);
    expect(pool.size).toBe(2);
    expect(pool.readyCount()).toBe(2);
    const jobs = [64, 128, 192];
    jobs.forEach((job, t) => (i32[job / 4] = 10 + t));
    pool.run(jobs, waitForWorkers(pool, work, 2));
    expect(jobs.map((job) => i32[job / 4 + 1])).toEqual([20, 22, 24]);
    expect(pool.workerJobs()).toBe(2);
    await pool.close();
    expect(pool.size).toBe(0);
  });

  it('takes back jobs no worker has claimed, so every job runs exactly once', async () => {
    const { pool, work, i32 } = setup();
    await pool.grow(2);
    for (let round = 0; round < 50; round++) {
      const jobs = [256, 320, 384];
      jobs.forEach((job, t) => {
        i32[job / 4] = round * 3 + t;
        i32[job / 4 + 1] = -1;
      });
      pool.run(jobs, work);
      expect(jobs.map((job) => i32[job / 4 + 1])).toEqual(jobs.map((_, t) => 2 * (round * 3 + t)));
    }
    await pool.close();
  });

  it('surfaces a trap in a worker through the caller-supplied error factory', async () => {
    const { pool, work, i32 } = setup();
    await pool.grow(1);
    i32[16] = 1;
    i32[32] = -5; // traps
    let thrown: unknown;
    try {
      pool.run([64, 128], waitForWorkers(pool, work, 1));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PoolTestError);
    expect((thrown as PoolTestError).failure.kind).toBe('job');
    // The pool still works after a failed job.
    i32[32] = 7;
    pool.run([64, 128], work);
    expect(i32[33]).toBe(14);
    await pool.close();
  });

  it('rejects grow with a start error when the module lacks the job export', async () => {
    const { pool } = setup('run_job');
    await expect(pool.grow(1)).rejects.toMatchObject({ failure: { kind: 'start', worker: 0 } });
    expect(pool.readyCount()).toBe(0);
    await pool.close();
  });

  it('defaults to a WasmKernelError with code TENSOR_WASM_WORKER_FAILED', async () => {
    const module = new WebAssembly.Module(WORK_WASM);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const pool = new WasmJobPool({ module, memory });
    await expect(pool.grow(1)).rejects.toMatchObject({ code: 'TENSOR_WASM_WORKER_FAILED' });
    await pool.close();
  });
});
