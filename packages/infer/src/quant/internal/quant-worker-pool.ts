// Worker threads that share the quantized kernels' WebAssembly memory and run job descriptors on a synchronous call.
import { Worker } from 'node:worker_threads';
import { InferError } from '../../errors.js';

const CTL_PENDING = 0; // jobs still running
const CTL_ERRORS = 1; // jobs that threw
const CTL_SLOTS = 8; // per-worker job slot: 0 idle (or claimed), a job descriptor's byte offset, or -1 to quit
/** Most workers a pool can hold. */
export const MAX_QUANT_WORKERS = 63;
const CTL_READY = CTL_SLOTS + MAX_QUANT_WORKERS; // per-worker flag: 1 once the module is instantiated
const CTL_LENGTH = CTL_READY + MAX_QUANT_WORKERS;
/** How many times a thread polls a flag before it sleeps in Atomics.wait. */
const SPIN = 20000;

/**
 * Worker source, run with `new Worker(source, { eval: true, workerData })`: a string, so the same code
 * works from TypeScript sources, tests and the bundled dist. workerData: { module, memory, ctl, index }.
 */
const WORKER_SOURCE = `
'use strict';
(function main() {
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctl, index } = workerData;
const PENDING = ${CTL_PENDING}, ERRORS = ${CTL_ERRORS}, SLOT = ${CTL_SLOTS} + index, READY = ${CTL_READY} + index;
let run;
try {
  run = new WebAssembly.Instance(module, { env: { memory } }).exports.run_job;
} catch (error) {
  parentPort.postMessage({ type: 'error', message: String(error && error.stack || error) });
  return;
}
Atomics.store(ctl, READY, 1);
parentPort.postMessage({ type: 'ready' });
for (;;) {
  let job = Atomics.load(ctl, SLOT);
  for (let i = 0; job === 0 && i < ${SPIN}; i++) job = Atomics.load(ctl, SLOT);
  while (job === 0) {
    Atomics.wait(ctl, SLOT, 0);
    job = Atomics.load(ctl, SLOT);
  }
  if (job === -1) break;
  // Claim the job; this fails when the caller, done with its own share first, took it back.
  if (Atomics.compareExchange(ctl, SLOT, job, 0) !== job) continue;
  try {
    run(job);
  } catch (error) {
    Atomics.add(ctl, ERRORS, 1);
    parentPort.postMessage({ type: 'error', message: String(error && error.stack || error) });
  }
  if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
}
})();
`;

/**
 * Workers blocked on a SharedArrayBuffer control block (the scheme of @lmkit/tensor's wasm pool). The
 * caller posts job descriptors to worker slots with Atomics.notify, runs its own share, takes back any
 * job no worker has claimed yet (a busy machine never stalls a call), then waits for the rest.
 */
export class QuantWorkerPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_LENGTH * 4));
  private readonly workers: Worker[] = [];
  private lastError = '';

  /**
   * @param module the compiled kernels (shared with the workers, not recompiled)
   * @param memory the shared memory the kernels import
   */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
  ) {}

  /** Workers spawned (ready or starting). */
  get size(): number {
    return this.workers.length;
  }

  /** Workers that have instantiated the module and can take jobs now. */
  readyCount(): number {
    let n = 0;
    for (let i = 0; i < this.workers.length; i++) if (Atomics.load(this.ctl, CTL_READY + i) === 1) n++;
    return n;
  }

  /** Spawns workers until there are at least `count` (they start in the background); never shrinks. */
  grow(count: number): void {
    const target = Math.max(0, Math.min(MAX_QUANT_WORKERS, Math.floor(count)));
    while (this.workers.length < target) this.spawn();
  }

  /**
   * Runs `jobs[0]` on the calling thread via `runLocal` and `jobs[1..]` on ready workers; returns when
   * all are done. `jobs.length - 1` must not exceed readyCount().
   */
  run(jobs: readonly number[], runLocal: (job: number) => void): void {
    const errorsBefore = Atomics.load(this.ctl, CTL_ERRORS);
    Atomics.store(this.ctl, CTL_PENDING, jobs.length - 1);
    const posted: number[] = [];
    let w = 0;
    for (let j = 1; j < jobs.length; j++) {
      while (Atomics.load(this.ctl, CTL_READY + w) !== 1) w++;
      Atomics.store(this.ctl, CTL_SLOTS + w, jobs[j]);
      Atomics.notify(this.ctl, CTL_SLOTS + w, 1);
      posted.push(w++);
    }
    let failure: unknown;
    try {
      runLocal(jobs[0]);
    } catch (error) {
      failure = error;
    }
    for (let i = 0; i < posted.length; i++) {
      const job = jobs[i + 1];
      // The same compare-exchange as the worker's claim: exactly one side wins the job.
      if (Atomics.compareExchange(this.ctl, CTL_SLOTS + posted[i], job, 0) !== job) continue;
      try {
        if (failure === undefined) runLocal(job);
      } catch (error) {
        failure = error;
      }
      Atomics.sub(this.ctl, CTL_PENDING, 1);
    }
    let pending = Atomics.load(this.ctl, CTL_PENDING);
    for (let i = 0; pending !== 0 && i < SPIN; i++) pending = Atomics.load(this.ctl, CTL_PENDING);
    while (pending !== 0) {
      Atomics.wait(this.ctl, CTL_PENDING, pending);
      pending = Atomics.load(this.ctl, CTL_PENDING);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(this.ctl, CTL_ERRORS) !== errorsBefore) {
      throw new InferError('INFER_KERNEL_WORKER_FAILED', `quantized kernel worker failed: ${this.lastError || 'a job trapped'}`, {
        hint: 'a trap means an access outside the shared memory; set the quantized kernels to 1 thread to see it on the calling thread',
      });
    }
  }

  /** Stops every worker and resolves when they have exited; the pool is unusable afterwards. */
  async close(): Promise<void> {
    const exited = this.workers.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, CTL_READY + i, 0);
      Atomics.store(this.ctl, CTL_SLOTS + i, -1);
      Atomics.notify(this.ctl, CTL_SLOTS + i, 1);
    }
    await Promise.all(exited);
    this.workers.length = 0;
  }

  private spawn(): void {
    const index = this.workers.length;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: this.module, memory: this.memory, ctl: this.ctl, index } });
    worker.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'error') this.lastError = message.message ?? 'unknown error';
    });
    worker.on('error', (error) => {
      this.lastError = String(error);
    });
    // NOTE: a worker sleeps in Atomics.wait between jobs; unref'd (after the listeners, which would
    // ref its message port again) it never holds the process open.
    worker.unref();
    this.workers.push(worker);
  }
}
