// A pool of worker threads that share the kernels' WebAssembly memory and run job descriptors on a synchronous call.
import { Worker } from 'node:worker_threads';
import { WasmKernelError } from './wasm-kernel-error';
import { CTL_ERRORS, CTL_WORKER_JOBS, CTL_LENGTH, CTL_PENDING, CTL_READY, CTL_SLOTS, MAX_WORKERS, SPIN, WORKER_SOURCE } from './worker-script';

/**
 * Workers blocked on a SharedArrayBuffer control block. The calling thread posts job descriptors
 * (byte offsets into the shared memory) to worker slots with Atomics.notify, runs its own share,
 * then Atomics.wait-s until every worker is done — so a kernel call stays synchronous.
 */
export class WorkerPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_LENGTH * 4));
  private readonly workers: Worker[] = [];
  private readonly started: Promise<void>[] = [];
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

  /** Jobs the workers have run so far (jobs the caller took back are not counted). */
  workerJobs(): number {
    return Atomics.load(this.ctl, CTL_WORKER_JOBS);
  }

  /**
   * Spawns workers until there are at least `count`; resolves when all are ready. The pool never
   * shrinks (a caller uses fewer workers instead) so a worker index is never reused.
   */
  grow(count: number): Promise<void> {
    const target = Math.max(0, Math.min(MAX_WORKERS, Math.floor(count)));
    while (this.workers.length < target) this.spawn();
    return Promise.all(this.started).then(() => undefined);
  }

  /**
   * Runs `jobs[0]` on the calling thread via `runLocal` and `jobs[1..]` on ready workers, and returns
   * when all are done. `jobs.length - 1` must not exceed readyCount(). A job that no worker has
   * claimed by the time the caller finishes its own share is taken back and run by the caller, so
   * a worker that the OS has not scheduled (a busy, shared machine) never stalls the call.
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
      throw new WasmKernelError('TENSOR_WASM_WORKER_FAILED', `wasm kernel worker failed: ${this.lastError || 'a job trapped'}`, {
        hint: 'check the operands and their strides/offsets; a trap means an access outside the shared memory',
      });
    }
  }

  /** Stops every worker; the pool is unusable afterwards. */
  close(): void {
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, CTL_READY + i, 0);
      Atomics.store(this.ctl, CTL_SLOTS + i, -1);
      Atomics.notify(this.ctl, CTL_SLOTS + i, 1);
    }
    this.workers.length = 0;
    this.started.length = 0;
  }

  private spawn(): void {
    const index = this.workers.length;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: this.module, memory: this.memory, ctl: this.ctl, index },
    });
    this.workers.push(worker);
    this.started.push(
      new Promise<void>((resolve, reject) => {
        worker.on('message', (message: { type: string; message?: string }) => {
          // NOTE: a ready worker sleeps in Atomics.wait between jobs; unref it then (not before:
          // the start-up must keep the process alive) so it never holds the process open.
          worker.unref();
          if (message.type === 'ready') resolve();
          else if (message.type === 'error') {
            this.lastError = message.message ?? 'unknown error';
            reject(new WasmKernelError('TENSOR_WASM_WORKER_FAILED', `wasm kernel worker ${index}: ${this.lastError}`));
          }
        });
        worker.on('error', (error) => reject(error));
        worker.on('exit', () => resolve());
      }),
    );
  }
}
