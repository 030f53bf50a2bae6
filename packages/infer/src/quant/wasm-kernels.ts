// Runs quantizedMatmul on the WebAssembly SIMD kernels: weights uploaded once into wasm memory, activations quantized per call.
import { QKERNELS_WASM_BASE64 } from './wasm/qkernels.wasm.js';
import { QK, type QuantizedMatrix } from './formats.js';

interface Exports {
  quantize_row_q8_0(x: number, nb: number, xq: number, xd: number): void;
  gemm_q8_0(wq: number, wd: number, xq: number, xd: number, rows: number, nb: number, tokens: number, bias: number, y: number): void;
  gemm_q4_0(wq: number, wd: number, xq: number, xd: number, rows: number, nb: number, tokens: number, bias: number, y: number): void;
  __heap_base: WebAssembly.Global;
}

const PAGE = 65536;

/** Bump-allocated wasm memory holding uploaded weights, plus a scratch area reused by every call. */
class QuantRuntime {
  readonly memory = new WebAssembly.Memory({ initial: 32 });
  readonly exports: Exports;
  private top: number;
  private scratch = { ptr: 0, bytes: 0 };
  private readonly uploaded = new WeakMap<QuantizedMatrix, { wq: number; wd: number }>();

  constructor() {
    const module = new WebAssembly.Module(Buffer.from(QKERNELS_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
    this.top = align(Number(this.exports.__heap_base.value), 64);
  }

  private alloc(bytes: number): number {
    const ptr = this.top;
    this.top = align(ptr + bytes, 64);
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    return ptr;
  }

  /** Copies a matrix's codes and scales into wasm memory once (kept for the life of the process). */
  upload(q: QuantizedMatrix): { wq: number; wd: number } {
    let entry = this.uploaded.get(q);
    if (!entry) {
      const wq = this.alloc(q.qs.byteLength);
      new Uint8Array(this.memory.buffer, wq, q.qs.byteLength).set(new Uint8Array(q.qs.buffer, q.qs.byteOffset, q.qs.byteLength));
      const wd = this.alloc(q.scales.byteLength);
      new Float32Array(this.memory.buffer, wd, q.scales.length).set(q.scales);
      entry = { wq, wd };
      this.uploaded.set(q, entry);
    }
    return entry;
  }

  /** A scratch region of at least `bytes`, reused across calls (grown when needed). */
  scratchOf(bytes: number): number {
    if (this.scratch.bytes < bytes) this.scratch = { ptr: this.alloc(bytes), bytes };
    return this.scratch.ptr;
  }
}

let runtime: QuantRuntime | null | undefined;

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** The wasm runtime, or null where WebAssembly SIMD is unavailable (then the JS kernels run; see quantKernelInfo). */
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

/** Which implementation quantized matmuls use: 'wasm-simd' or 'js' (when WebAssembly SIMD is missing). */
export function quantKernelInfo(): { mode: 'wasm-simd' | 'js' } {
  return { mode: getRuntime() ? 'wasm-simd' : 'js' };
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
  const { wq, wd } = rt.upload(w);
  const padded = nb * QK;
  const xBytes = tokens * padded * 4;
  const xqBytes = tokens * padded;
  const xdBytes = tokens * nb * 4;
  const yBytes = tokens * rows * 4;
  const biasBytes = bias ? rows * 4 : 0;
  const base = rt.scratchOf(xBytes + xqBytes + xdBytes + yBytes + biasBytes + 256);
  const px = base;
  const pxq = align(px + xBytes, 16);
  const pxd = align(pxq + xqBytes, 16);
  const py = align(pxd + xdBytes, 16);
  const pb = align(py + yBytes, 16);
  const mem = rt.memory.buffer;
  const xs = new Float32Array(mem, px, tokens * padded);
  if (padded === cols) xs.set(x.subarray(0, tokens * cols));
  else {
    xs.fill(0);
    for (let t = 0; t < tokens; t++) xs.set(x.subarray(t * cols, t * cols + cols), t * padded);
  }
  if (bias) new Float32Array(mem, pb, rows).set(bias);
  for (let t = 0; t < tokens; t++) rt.exports.quantize_row_q8_0(px + t * padded * 4, nb, pxq + t * padded, pxd + t * nb * 4);
  const gemm = w.format === 'q8_0' ? rt.exports.gemm_q8_0 : rt.exports.gemm_q4_0;
  gemm(wq, wd, pxq, pxd, rows, nb, tokens, bias ? pb : 0, py);
  y.set(new Float32Array(rt.memory.buffer, py, tokens * rows));
  return y;
}
