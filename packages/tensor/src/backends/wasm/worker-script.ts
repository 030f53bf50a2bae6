// The source of a job-pool worker thread: instantiate the module over the shared memory, then run jobs posted through a control block.

/** Index of the count of jobs still running in the control Int32Array. */
export const CTL_PENDING = 0;
/** Index of the count of jobs that threw. */
export const CTL_ERRORS = 1;
/** Index of the count of jobs workers have run (the rest ran on the calling thread). */
export const CTL_WORKER_JOBS = 2;
/** First per-worker job slot: 0 idle (or claimed), a byte offset of a job descriptor, or -1 to quit. */
export const CTL_SLOTS = 16;
/** Most workers a pool can hold. */
export const MAX_WORKERS = 63;
/** First per-worker ready flag (1 once the worker has instantiated the module). */
export const CTL_READY = CTL_SLOTS + MAX_WORKERS;
/** Length of the control Int32Array. */
export const CTL_LENGTH = CTL_READY + MAX_WORKERS;

/** How many times a thread polls a flag before it sleeps in Atomics.wait. */
export const SPIN = 20000;

/**
 * Worker source, run with `new Worker(source, { eval: true, workerData })`, calling the module's
 * export `jobExport` on each job. It is a string (not a separate file) so that the same code works
 * from TypeScript sources, tests and the bundled dist. workerData: { module, memory, ctl, index }.
 */
export function workerSource(jobExport: string): string {
  return `
'use strict';
(function main() {
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, ctl, index } = workerData;
const PENDING = ${CTL_PENDING}, ERRORS = ${CTL_ERRORS}, WORKER_JOBS = ${CTL_WORKER_JOBS}, SLOT = ${CTL_SLOTS} + index, READY = ${CTL_READY} + index;
let run;
try {
  run = new WebAssembly.Instance(module, { env: { memory } }).exports[${JSON.stringify(jobExport)}];
  if (typeof run !== 'function') throw new Error('the module exports no function ' + ${JSON.stringify(JSON.stringify(jobExport))});
} catch (error) {
  parentPort.postMessage({ type: 'error', message: String(error && error.stack || error) });
  return;
}
Atomics.store(ctl, READY, 1);
parentPort.postMessage({ type: 'ready' });
for (;;) {
  let job = Atomics.load(ctl, SLOT);
  // NOTE: a short spin first: back-to-back kernels (a training step) then skip the futex wake-up.
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
  Atomics.add(ctl, WORKER_JOBS, 1);
  if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
}
})();
`;
}
