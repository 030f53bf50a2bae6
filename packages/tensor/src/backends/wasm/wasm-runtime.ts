// The process-wide state of the WebAssembly kernels: the compiled module, its shared memory, the worker pool and the thread count.
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { KERNELS_RELAXED_BASE64, KERNELS_SIMD_BASE64 } from './kernels-wasm.generated';
import { WasmHeap } from './wasm-heap';
import { WasmKernelError } from './wasm-kernel-error';
import { WorkerPool } from './worker-pool';
import { MAX_WORKERS } from './worker-script';
import { MICRO_ROWS } from './sgemm-partition';

/** Options of {@link initWasmKernels}. */
export interface WasmKernelOptions {
  /** Threads a kernel call may use, the calling thread included (1 = no workers). Default: os.availableParallelism(), at most 64. */
  threads?: number;
  /** Use `f32x4.relaxed_madd` (fused multiply-add) when the engine supports it. Default: true. */
  relaxedSimd?: boolean;
}

/** What the kernels run with, from {@link wasmInfo}. */
export interface WasmInfo {
  /** True once initWasmKernels has compiled the module. */
  ready: boolean;
  /** WebAssembly SIMD128 (always true when ready: the kernels require it). */
  simd: boolean;
  /** True when the relaxed-SIMD module (f32x4.relaxed_madd, FMA on x86 with FMA3) is in use; false: plain mul + add. */
  relaxedSimd: boolean;
  /** Threads a kernel call may use (setThreads), the calling thread included. */
  threads: number;
  /** Threads ready right now (1 + workers that have started); a call uses min(threads, threadsReady). */
  threadsReady: number;
  /** Jobs run by worker threads since init (a job no worker claimed in time runs on the caller instead). */
  workerJobs: number;
  /** Bytes of the shared memory (allocated or not). */
  memoryBytes: number;
}

/** One thread's job descriptor and scratch, both inside the shared memory. */
export interface ThreadContext {
  /** Byte offset of this thread's job descriptor (kind word, then the kernel's struct). */
  job: number;
  /** Byte offset of this thread's sgemm packing scratch. */
  scratch: number;
}

/** The live kernel state. */
export interface WasmRuntime {
  heap: WasmHeap;
  relaxedSimd: boolean;
  module: WebAssembly.Module;
  /** Runs the job descriptor at a byte offset on the calling thread (c/jobs.c). */
  runJob: (job: number) => void;
  scratchFloats: number;
  pool: WorkerPool;
  threads: number;
  contexts: ThreadContext[];
}

/** The allocator's first byte: above the module's static data and 64 KiB C stack (checked at init). */
const HEAP_START = 1 << 20;
/** Pages committed when the memory is created (16 MiB); it grows on demand. */
const INITIAL_PAGES = 256;

let heap: WasmHeap | undefined;
let runtime: WasmRuntime | undefined;
let simdModule: WebAssembly.Module | undefined;
let relaxedModule: WebAssembly.Module | null | undefined;

/** The plain-SIMD module, compiled once. */
function compileSimd(): WebAssembly.Module {
  simdModule ??= new WebAssembly.Module(Buffer.from(KERNELS_SIMD_BASE64, 'base64'));
  return simdModule;
}

/** The relaxed-SIMD module, compiled once, or undefined where the engine rejects relaxed SIMD. */
function compileRelaxed(): WebAssembly.Module | undefined {
  if (relaxedModule === undefined) {
    const bytes = Buffer.from(KERNELS_RELAXED_BASE64, 'base64');
    // NOTE: relaxed SIMD is on by default from Node 22; on Node 20 it sits behind this flag,
    // which V8 reads when it validates a module, so setting it at run time is enough.
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return relaxedModule ?? undefined;
}

function clampThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `wasm kernels: threads must be a positive integer, got ${threads}`, {
      hint: 'pass 1 for single-threaded kernels, or os.availableParallelism()',
    });
  }
  return Math.min(threads, MAX_WORKERS + 1);
}

/**
 * Compiles the kernels and starts the worker pool without waiting for the workers: kernels can be
 * called at once (on the calling thread) and workers join as they become ready. Calling it again
 * changes the thread count, or switches module when `relaxedSimd` differs. The shared memory and
 * every buffer from allocF32 survive re-initialization.
 */
export function initWasmKernelsSync(options: WasmKernelOptions = {}): void {
  const threads = clampThreads(options.threads ?? Math.min(availableParallelism(), 64));
  const relaxed = (options.relaxedSimd ?? true) ? compileRelaxed() : undefined;
  const module = relaxed ?? compileSimd();
  if (runtime?.module === module) {
    setThreads(threads).catch(ignoreLateWorkerFailure);
    return;
  }
  runtime?.pool.close();
  heap ??= new WasmHeap(HEAP_START, INITIAL_PAGES);
  const instance = new WebAssembly.Instance(module, { env: { memory: heap.memory } });
  const exports = instance.exports as {
    run_job: (job: number) => void;
    sgemm_scratch_floats: () => number;
    sgemm_tile_rows: () => number;
    __heap_base: WebAssembly.Global;
  };
  const heapBase = exports.__heap_base.value as number;
  // NOTE: internal invariants between the C source and this file; a failure is a build bug.
  if (heapBase > HEAP_START) throw new Error(`wasm kernels: __heap_base ${heapBase} overlaps the heap at ${HEAP_START}`);
  if (exports.sgemm_tile_rows() !== MICRO_ROWS) throw new Error(`wasm kernels: tile rows ${exports.sgemm_tile_rows()} ≠ ${MICRO_ROWS}`);
  runtime = {
    heap,
    relaxedSimd: relaxed !== undefined,
    module,
    runJob: exports.run_job,
    scratchFloats: exports.sgemm_scratch_floats(),
    pool: new WorkerPool(module, heap.memory),
    threads: 1,
    contexts: runtime?.contexts ?? [],
  };
  setThreads(threads).catch(ignoreLateWorkerFailure);
}

/** NOTE: a worker that fails to start only lowers threadsReady (visible in wasmInfo); calls still run. */
function ignoreLateWorkerFailure(): void {}

/**
 * Compiles the WebAssembly SIMD kernels (relaxed SIMD when available), creates the shared memory and
 * starts `threads - 1` workers; resolves when all are ready. After it, every kernel is synchronous.
 *
 * @example
 * await initWasmKernels({ threads: 2 });
 * sgemm({ m: 2, n: 2, k: 2, a, b, c });
 */
export async function initWasmKernels(options: WasmKernelOptions = {}): Promise<void> {
  initWasmKernelsSync(options);
  await getRuntime().pool.grow(getRuntime().threads - 1);
}

/** True once the kernels are compiled (initWasmKernels or initWasmKernelsSync has run). */
export function wasmKernelsReady(): boolean {
  return runtime !== undefined;
}

/**
 * Sets how many threads a kernel call may use, the calling thread included; spawns workers if
 * needed and resolves when they are ready (calls made before use the threads ready so far).
 */
export function setThreads(threads: number): Promise<void> {
  const rt = getRuntime();
  rt.threads = clampThreads(threads);
  while (rt.contexts.length < rt.threads) {
    rt.contexts.push({ job: rt.heap.alloc(128), scratch: rt.heap.alloc(rt.scratchFloats * 4) });
  }
  return rt.pool.grow(rt.threads - 1);
}

/** What the kernels run with: SIMD flavour, threads, memory. */
export function wasmInfo(): WasmInfo {
  if (!runtime) return { ready: false, simd: false, relaxedSimd: false, threads: 0, threadsReady: 0, workerJobs: 0, memoryBytes: 0 };
  return {
    ready: true,
    simd: true,
    relaxedSimd: runtime.relaxedSimd,
    threads: runtime.threads,
    threadsReady: 1 + runtime.pool.readyCount(),
    workerJobs: runtime.pool.workerJobs(),
    memoryBytes: runtime.heap.memory.buffer.byteLength,
  };
}

/** Job kinds, word 0 of a job descriptor (the enum in c/simd.h). */
export const JOB_SGEMM = 1;
/** A row-softmax job (c/softmax.c). */
export const JOB_SOFTMAX = 2;
/** A GELU (tanh) forward job (c/gelu.c). */
export const JOB_GELU = 3;
/** A GELU (tanh) backward job (c/gelu.c). */
export const JOB_GELU_GRAD = 4;
/** A small-T attention job (c/attention_decode.c). */
export const JOB_ATTENTION_DECODE = 5;

/**
 * Runs one job per thread and returns when all are done: `jobs[t]` is the byte offset of thread t's
 * descriptor (contexts[t].job), jobs[0] runs on the calling thread.
 */
export function runJobs(rt: WasmRuntime, jobs: readonly number[]): void {
  if (jobs.length === 1) rt.runJob(jobs[0]);
  else rt.pool.run(jobs, rt.runJob);
}

/** Threads a job of `work` units may use: 1 below `minWork`, else min(setThreads, ready threads). */
export function threadsFor(rt: WasmRuntime, work: number, minWork: number): number {
  return work < minWork ? 1 : Math.min(rt.threads, 1 + rt.pool.readyCount());
}

/** The live runtime; throws TENSOR_WASM_NOT_READY before init. */
export function getRuntime(): WasmRuntime {
  if (!runtime) {
    throw new WasmKernelError('TENSOR_WASM_NOT_READY', 'wasm kernels used before initialization', {
      hint: 'await initWasmKernels() once at start-up (or call initWasmKernelsSync())',
    });
  }
  return runtime;
}
