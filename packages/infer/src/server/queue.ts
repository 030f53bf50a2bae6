// A fair FIFO of generation slots: at most `concurrency` requests run, at most `maxWaiting` wait.
import { ApiError } from './openai-error.js';

/** Limits of the request queue. */
export interface QueueOptions {
  /** Requests generating at once. Default 1 (the CPU is the bottleneck; more only interleaves). */
  concurrency?: number;
  /** Requests allowed to wait for a slot before new ones get 429. Default 64. */
  maxWaiting?: number;
}

/** Slots for generation requests; `acquire` resolves with a release function. */
export class RequestQueue {
  private running = 0;
  private readonly waiting: { resolve: (release: () => void) => void; reject: (e: Error) => void; signal?: AbortSignal }[] = [];
  readonly concurrency: number;
  readonly maxWaiting: number;

  constructor(options: QueueOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    this.maxWaiting = options.maxWaiting ?? 64;
  }

  /** Requests running now. */
  get active(): number {
    return this.running;
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; rejects with 429 when the queue is full, or when `signal` aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new ApiError(429, `server busy: ${this.waiting.length} requests already waiting`, 'rate_limit_error', null, 'queue_full'));
    }
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, ...(signal ? { signal } : {}) };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(new ApiError(499, 'client closed the request', 'invalid_request_error', null, 'client_closed'));
        }
      }, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.resolve(this.releaser());
      else this.running--;
    };
  }
}
