// A pool of worker threads running a WebAssembly module's job function on descriptors in shared memory, synchronously for the caller.
import { Worker } from 'node:worker_threads';
import { WasmKernelError } from './wasm-kernel-error';
import { CTL_ERRORS, CTL_WORKER_JOBS, CTL_LENGTH, CTL_PENDING, CTL_READY, CTL_SLOTS, MAX_WORKERS, SPIN, workerSource } from './worker-script';

/** What went wrong in a worker, handed to {@link WasmJobPoolOptions.createError}. */
export interface WasmJobFailure {
  /** 'start': a worker could not instantiate the module (grow rejects); 'job': a job trapped in a worker (run throws). */
  kind: 'start' | 'job';
  /** The worker's error text (its stack where there is one), or 'a job trapped' when none came back yet. */
  message: string;
  /** The failing worker's index, for kind 'start'. */
  worker?: number;
}

/** Options of {@link WasmJobPool}. */
export interface WasmJobPoolOptions {
  /** The compiled module, shared with the workers (not recompiled). It imports `env.memory`. Required. */
  module: WebAssembly.Module;
  /** The shared memory (`shared: true`) the module imports as `env.memory`. Required. */
  memory: WebAssembly.Memory;
  /** Name of the module's export that runs one job: `(descriptorByteOffset: number) => void`. Default: 'run_job'. */
  jobExport?: string;
  /**
   * Builds the error a failure surfaces as, so that each caller throws its own typed error.
   * Default: a WasmKernelError with code TENSOR_WASM_WORKER_FAILED.
   */
  createError?: (failure: WasmJobFailure) => Error;
}

/** The largest number of workers one pool holds. */
export const WASM_JOB_POOL_MAX_WORKERS = MAX_WORKERS;

function defaultError(failure: WasmJobFailure): Error {
  if (failure.kind === 'start') return new WasmKernelError('TENSOR_WASM_WORKER_FAILED', `wasm kernel worker ${failure.worker}: ${failure.message}`);
  return new WasmKernelError('TENSOR_WASM_WORKER_FAILED', `wasm kernel worker failed: ${failure.message}`, {
    hint: 'check the operands and their strides/offsets; a trap means an access outside the shared memory',
  });
}

/**
 * Workers blocked on a SharedArrayBuffer control block, each with its own instance of one module
 * over one shared memory. {@link WasmJobPool.run} posts job descriptors (byte offsets into the
 * shared memory) to worker slots with Atomics.notify, runs the first on the calling thread, takes
 * back any job no worker has claimed by then (a busy, shared machine never stalls a call), then
 * waits (spin, then Atomics.wait) until every worker is done — so a call stays synchronous.
 * Workers are unref'd once started: they never hold the process open.
 *
 * @example
 * const memory = new WebAssembly.Memory({ initial: 32, maximum: 1024, shared: true });
 * const instance = new WebAssembly.Instance(module, { env: { memory } });
 * const pool = new WasmJobPool({ module, memory, createError: (f) => new MyError('WORKER_FAILED', f.message) });
 * await pool.grow(3); // 3 workers + the caller
 * const runJob = instance.exports.run_job as (job: number) => void;
 * pool.run([jobA, jobB, jobC, jobD], runJob); // jobA on this thread, the rest on workers
 * await pool.close();
 */
export class WasmJobPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_LENGTH * 4));
  private readonly workers: Worker[] = [];
  private readonly started: Promise<void>[] = [];
  private readonly exited: Promise<void>[] = [];
  private readonly module: WebAssembly.Module;
  private readonly memory: WebAssembly.Memory;
  private readonly source: string;
  private readonly createError: (failure: WasmJobFailure) => Error;
  private lastError = '';

  /** @param options the module, its shared memory, the job export and the error factory */
  constructor(options: WasmJobPoolOptions) {
    this.module = options.module;
    this.memory = options.memory;
    this.source = workerSource(options.jobExport ?? 'run_job');
    this.createError = options.createError ?? defaultError;
  }

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

  /** Jobs the workers have run so far (jobs the caller took back are not counted). */
  workerJobs(): number {
    return Atomics.load(this.ctl, CTL_WORKER_JOBS);
  }

  /**
   * Spawns workers until there are at least `count` (at most {@link WASM_JOB_POOL_MAX_WORKERS});
   * resolves when all are ready, rejects (createError, kind 'start') when one fails to start. Calls
   * need not wait: run uses the workers ready so far. The pool never shrinks (a caller uses fewer
   * workers instead) so a worker index is never reused.
   */
  grow(count: number): Promise<void> {
    const target = Math.max(0, Math.min(MAX_WORKERS, Math.floor(count)));
    while (this.workers.length < target) this.spawn();
    return Promise.all(this.started).then(() => undefined);
  }

  /**
   * Runs `jobs[0]` on the calling thread via `runLocal` and `jobs[1..]` on ready workers, and returns
   * when all are done. `jobs.length - 1` must not exceed readyCount(). A job that no worker has
   * claimed by the time the caller finishes its own share is taken back and run by the caller.
   * Throws what `runLocal` threw, or createError (kind 'job') when a job trapped in a worker.
   */
  run(jobs: readonly number[], runLocal: (job: number) => void): void {
    const errorsBefore = Atomics.load(this.ctl, CTL_ERRORS);
    Atomics.store(this.ctl, CTL_PENDING, jobs.length - 1);
    const posted: [slot: number, job: number][] = [];
    let w = 0;
    for (let j = 1; j < jobs.length; j++) {
      while (Atomics.load(this.ctl, CTL_READY + w) !== 1) w++;
      Atomics.store(this.ctl, CTL_SLOTS + w, jobs[j]);
      Atomics.notify(this.ctl, CTL_SLOTS + w, 1);
      posted.push([CTL_SLOTS + w, jobs[j]]);
      w++;
    }
    let failure: unknown;
    try {
      runLocal(jobs[0]);
    } catch (error) {
      failure = error;
    }
    for (const [slot, job] of posted) {
      // The same compare-exchange as the worker's claim: exactly one side wins the job.
      if (Atomics.compareExchange(this.ctl, slot, job, 0) !== job) continue;
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
      throw this.createError({ kind: 'job', message: this.lastError || 'a job trapped' });
    }
  }

  /** Stops every worker and resolves when they have exited; the pool is unusable afterwards. */
  close(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, CTL_READY + i, 0);
      Atomics.store(this.ctl, CTL_SLOTS + i, -1);
      Atomics.notify(this.ctl, CTL_SLOTS + i, 1);
    }
    const exited = Promise.all(this.exited).then(() => undefined);
    this.workers.length = 0;
    this.started.length = 0;
    this.exited.length = 0;
    return exited;
  }

  private spawn(): void {
    const index = this.workers.length;
    const worker = new Worker(this.source, {
      eval: true,
      workerData: { module: this.module, memory: this.memory, ctl: this.ctl, index },
    });
    this.workers.push(worker);
    this.exited.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    this.started.push(
      new Promise<void>((resolve, reject) => {
        let ready = false;
        worker.on('message', (message: { type: string; message?: string }) => {
          // NOTE: a ready worker sleeps in Atomics.wait between jobs; unref it then (not before:
          // the start-up must keep the process alive) so it never holds the process open.
          worker.unref();
          if (message.type === 'ready') {
            ready = true;
            resolve();
          } else if (message.type === 'error') {
            this.lastError = message.message ?? 'unknown error';
            if (!ready) reject(this.createError({ kind: 'start', message: this.lastError, worker: index }));
          }
        });
        worker.on('error', (error) => {
          this.lastError = String(error);
          reject(error);
        });
        worker.on('exit', () => resolve());
      }),
    );
  }
}
