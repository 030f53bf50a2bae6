// Runs quantizedMatmul on the WebAssembly SIMD kernels over worker threads: weights packed once into shared wasm memory, activations quantized per call.
import { availableParallelism } from 'node:os';
import { WasmJobPool, WASM_JOB_POOL_MAX_WORKERS, type WasmJobFailure } from '@lmkit/tensor';
import { InferError } from '../errors.js';
import { QK, type QuantizedMatrix } from './formats.js';
import { QKERNELS_WASM_BASE64 } from './wasm/qkernels.wasm.js';

interface Exports {
  prep_activations(x: number, nb: number, tokens: number, format: number, xa: number, xd: number, xs: number): void;
  run_job(job: number): void;
  __heap_base: WebAssembly.Global;
}

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, the module's --max-memory
const JOB_INTS = 16; // int32 slots of the job descriptor (15 used)
const ROWS_PER_GROUP = 4; // weight rows interleaved per group (qkernels.c)
const MIN_GROUPS_PER_THREAD = 16; // below this a worker's wake-up costs more than its share
const CHUNKS_PER_THREAD = 8; // every thread takes chunks of rows until none is left (qkernels.c run_job)
const MIN_GROUPS_PER_CHUNK = 4;

/** Packed weights inside wasm memory: 4-row groups, scales as 4 floats per (group, block). */
interface Packed {
  wq: number;
  wd: number;
}

/** Shared wasm memory holding packed weights (regions reused once their matrix is collected), a scratch area, the job descriptors and the worker pool. */
class QuantRuntime {
  readonly memory = new WebAssembly.Memory({ initial: 32, maximum: MAX_PAGES, shared: true });
  readonly exports: Exports;
  readonly pool: WasmJobPool;
  threads = Math.min(availableParallelism(), WASM_JOB_POOL_MAX_WORKERS + 1);
  readonly jobs: number;
  private top: number;
  private scratch = { ptr: 0, bytes: 0 };
  private readonly packed = new WeakMap<QuantizedMatrix, Packed>();
  private free: Array<{ ptr: number; bytes: number }> = [];
  // NOTE: a matrix's packed copy lives as long as the matrix; once it is collected the region is reused.
  private readonly released = new FinalizationRegistry<{ ptr: number; bytes: number }>(({ ptr, bytes }) => this.release(ptr, bytes));

  constructor() {
    const module = new WebAssembly.Module(Buffer.from(QKERNELS_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
    this.top = align(Number(this.exports.__heap_base.value), 64);
    this.jobs = this.alloc(JOB_INTS * 4);
    this.pool = new WasmJobPool({ module, memory: this.memory, jobExport: 'run_job', createError: workerError });
    growInBackground(this.pool, this.threads - 1);
  }

  private alloc(bytes: number): number {
    const size = align(bytes, 64);
    // First fit among the regions of matrices that were garbage-collected (see `released`).
    for (let i = 0; i < this.free.length; i++) {
      const region = this.free[i];
      if (region.bytes < size) continue;
      if (region.bytes === size) this.free.splice(i, 1);
      else this.free[i] = { ptr: region.ptr + size, bytes: region.bytes - size };
      new Uint8Array(this.memory.buffer, region.ptr, size).fill(0);
      return region.ptr;
    }
    const ptr = this.top;
    this.top = ptr + size;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) {
      const pages = Math.ceil(need / PAGE);
      if (this.memory.buffer.byteLength / PAGE + pages > MAX_PAGES) {
        this.top = ptr;
        throw new InferError('INFER_OUT_OF_MEMORY', `quantized kernels: ${((ptr + size) / 2 ** 30).toFixed(2)} GiB of weights and scratch exceed the 4 GiB of wasm memory`, {
          hint: "use a smaller model or a lower-bit format, or kernel 'js'",
        });
      }
      this.memory.grow(pages);
    }
    return ptr;
  }

  /** Returns a region to the free list, merged with its free neighbours. */
  private release(ptr: number, bytes: number): void {
    const size = align(bytes, 64);
    this.free.push({ ptr, bytes: size });
    this.free.sort((a, b) => a.ptr - b.ptr);
    const merged: Array<{ ptr: number; bytes: number }> = [];
    for (const region of this.free) {
      const last = merged.at(-1);
      if (last && last.ptr + last.bytes === region.ptr) last.bytes += region.bytes;
      else merged.push({ ...region });
    }
    this.free = merged;
  }

  /** Copies a matrix's codes and scales into wasm memory once, in 4-row groups (kept for the life of the process). */
  pack(q: QuantizedMatrix): Packed {
    let entry = this.packed.get(q);
    if (entry) return entry;
    const { rows, blocksPerRow: nb } = q;
    const groups = Math.ceil(rows / ROWS_PER_GROUP);
    const rowBlockBytes = q.format === 'q8_0' ? QK : QK / 2;
    const qBytes = groups * ROWS_PER_GROUP * nb * rowBlockBytes;
    const wq = this.alloc(qBytes + groups * ROWS_PER_GROUP * nb * 4);
    const wd = wq + qBytes;
    const buffer = this.memory.buffer;
    const src = q.qs;
    // NOTE: row blocks are 16 or 32 bytes, so they move as int32 words when the source is aligned.
    const unit = src.byteOffset % 4 === 0 ? 4 : 1;
    const from = unit === 4 ? new Int32Array(src.buffer, src.byteOffset, src.byteLength / 4) : new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    const to = unit === 4 ? new Int32Array(buffer, wq, (groups * ROWS_PER_GROUP * nb * rowBlockBytes) / 4) : new Uint8Array(buffer, wq, groups * ROWS_PER_GROUP * nb * rowBlockBytes);
    const words = rowBlockBytes / unit;
    const scales = new Float32Array(buffer, wd, groups * ROWS_PER_GROUP * nb);
    for (let r = 0; r < rows; r++) {
      const g = Math.floor(r / ROWS_PER_GROUP);
      const i = r % ROWS_PER_GROUP;
      for (let b = 0; b < nb; b++) {
        const slot = (g * nb + b) * ROWS_PER_GROUP + i;
        scales[slot] = q.scales[r * nb + b];
        const s = (r * nb + b) * words;
        const d = slot * words;
        for (let k = 0; k < words; k++) to[d + k] = from[s + k];
      }
    }
    // Rows past `rows` in the last group stay zero: alloc hands out zeroed memory.
    entry = { wq, wd };
    this.packed.set(q, entry);
    this.released.register(q, { ptr: wq, bytes: wd - wq + groups * ROWS_PER_GROUP * nb * 4 });
    return entry;
  }

  /** A scratch region of at least `bytes`, reused across calls (grown when needed). */
  scratchOf(bytes: number): number {
    if (this.scratch.bytes < bytes) {
      if (this.scratch.bytes > 0) this.release(this.scratch.ptr, this.scratch.bytes);
      this.scratch = { ptr: this.alloc(bytes), bytes };
    }
    return this.scratch.ptr;
  }
}

let runtime: QuantRuntime | null | undefined;

/** The error a trapped worker job surfaces as (a worker that fails to start only lowers threadsReady). */
function workerError(failure: WasmJobFailure): Error {
  return new InferError('INFER_KERNEL_WORKER_FAILED', `quantized kernel worker failed: ${failure.message}`, {
    hint: 'a trap means an access outside the shared memory; set the quantized kernels to 1 thread to see it on the calling thread',
  });
}

/** Starts workers without waiting: calls use the threads ready so far; a worker that fails to start is visible in quantKernelInfo. */
function growInBackground(pool: WasmJobPool, workers: number): void {
  pool.grow(workers).catch(() => undefined);
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The wasm runtime, or null where WebAssembly SIMD or shared memory is unavailable (then the JS kernels run; see quantKernelInfo). */
function getRuntime(): QuantRuntime | null {
  if (runtime === undefined) {
    try {
      runtime = new QuantRuntime();
    } catch {
      runtime = null;
    }
  }
  return runtime;
}

/** Which implementation quantized matmuls use ('wasm-simd', or 'js' when WebAssembly SIMD is missing) and on how many threads. */
export function quantKernelInfo(): { mode: 'wasm-simd' | 'js'; threads: number; threadsReady: number } {
  const rt = getRuntime();
  return rt ? { mode: 'wasm-simd', threads: rt.threads, threadsReady: Math.min(rt.threads, 1 + rt.pool.readyCount()) } : { mode: 'js', threads: 1, threadsReady: 1 };
}

/**
 * Sets how many threads a quantized matmul may use, the calling thread included (default
 * os.availableParallelism(), at most 64). Workers start in the background; until they are ready a
 * call uses the threads ready so far. Workers never keep the process alive.
 */
export function setQuantThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InferError('INFER_BAD_ARGUMENT', `setQuantThreads: threads must be a positive integer, got ${threads}`, { hint: 'pass 1 for single-threaded kernels, or os.availableParallelism()' });
  }
  const rt = getRuntime();
  if (!rt) return;
  rt.threads = Math.min(threads, WASM_JOB_POOL_MAX_WORKERS + 1);
  growInBackground(rt.pool, rt.threads - 1);
}

/** Stops the quantized kernels' worker threads (tests; a later call runs single-threaded until setQuantThreads starts new ones). */
export async function closeQuantThreads(): Promise<void> {
  const rt = runtime;
  if (!rt) return;
  runtime = undefined;
  await rt.pool.close();
}

/**
 * y (T, rows) = x (T, cols) · Wᵀ on the wasm kernels; returns null when they are unavailable.
 * Activations are quantized to q8_0 (as llama.cpp does), so results differ from the f32 product by
 * the activation rounding too (relative error ~1e-2 at most, typically far less).
 */
export function wasmQuantizedMatmul(x: Float32Array, tokens: number, w: QuantizedMatrix, bias: Float32Array | undefined, y: Float32Array): Float32Array | null {
  const rt = getRuntime();
  if (!rt) return null;
  const { rows, cols, blocksPerRow: nb } = w;
  const { wq, wd } = rt.pack(w);
  const padded = nb * QK;
  const xBytes = tokens * padded * 4;
  const xaBytes = tokens * padded * 2;
  const xdBytes = tokens * nb * 4;
  const yBytes = tokens * rows * 4;
  const biasBytes = bias ? rows * 4 : 0;
  const base = rt.scratchOf(xBytes + xaBytes + 2 * xdBytes + yBytes + biasBytes + 5 * 16);
  const px = base;
  const pxa = align(px + xBytes, 16);
  const pxd = align(pxa + xaBytes, 16);
  const pxs = align(pxd + xdBytes, 16);
  const py = align(pxs + xdBytes, 16);
  const pb = align(py + yBytes, 16);
  const mem = rt.memory.buffer;
  const xs = new Float32Array(mem, px, tokens * padded);
  if (padded === cols) xs.set(x.subarray(0, tokens * cols));
  else {
    xs.fill(0);
    for (let t = 0; t < tokens; t++) xs.set(x.subarray(t * cols, t * cols + cols), t * padded);
  }
  if (bias) new Float32Array(mem, pb, rows).set(bias);
  const format = w.format === 'q8_0' ? 0 : 1;
  rt.exports.prep_activations(px, nb, tokens, format, pxa, pxd, pxs);
  const groups = Math.ceil(rows / ROWS_PER_GROUP);
  const threads = Math.max(1, Math.min(rt.threads, 1 + rt.pool.readyCount(), Math.floor(groups / MIN_GROUPS_PER_THREAD)));
  const job = new Int32Array(mem, rt.jobs, JOB_INTS);
  job.set([format, wq, wd, pxa, pxd, pxs, 0, groups, nb, tokens, bias ? pb : 0, py, rows, 0, threads === 1 ? 1 : Math.min(threads * CHUNKS_PER_THREAD, Math.floor(groups / MIN_GROUPS_PER_CHUNK))]);
  if (threads === 1) rt.exports.run_job(rt.jobs);
  else rt.pool.run(new Array<number>(threads).fill(rt.jobs), rt.exports.run_job);
  y.set(new Float32Array(rt.memory.buffer, py, tokens * rows));
  return y;
}
