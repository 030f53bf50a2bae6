// Switches the cpu backend's GEMM to the WebAssembly SIMD kernels (worker pool over shared memory) and back.
import { attentionDecode, geluTanh, geluTanhGrad, initWasmKernelsSync, setThreads, sgemm, softmaxRows, wasmInfo, type AttentionDecodeArgs, type GeluArgs, type GeluGradArgs, type SoftmaxRowsArgs } from '../wasm/index.js';
import { setCpuGemm } from './kernels/matmul.js';
import { sgemmJs, type Sgemm } from './gemm.js';
import { cpuState } from './storage.js';
import { setWasmBuffers } from './wasm-storage.js';

let decodeAttention: ((args: AttentionDecodeArgs) => void) | null = null;
let rowSoftmax: ((args: SoftmaxRowsArgs) => void) | null = null;
let wasmSgemm: Sgemm | null = null;
let gelu: { forward: (args: GeluArgs) => void; backward: (args: GeluGradArgs) => void } | null = null;

/** @internal The wasm SIMD GEMM while the wasm kernels are in use, else null. */
export function wasmGemm(): Sgemm | null {
  return wasmSgemm;
}

/** @internal The wasm GELU (tanh approximation) pair while the wasm kernels are in use, else null (the JS loops run). */
export function wasmGelu(): { forward: (args: GeluArgs) => void; backward: (args: GeluGradArgs) => void } | null {
  return gelu;
}

/** @internal The wasm small-T attention while the wasm kernels are in use, else null (the JS loops run). */
export function wasmAttentionDecode(): ((args: AttentionDecodeArgs) => void) | null {
  return decodeAttention;
}

/** @internal The wasm row softmax while the wasm kernels are in use, else null (the JS loop runs). */
export function wasmRowSoftmax(): ((args: SoftmaxRowsArgs) => void) | null {
  return rowSoftmax;
}

/** Options of `useWasmKernels`. */
export interface UseWasmOptions {
  /** Threads per kernel call, the calling thread included (default: os.availableParallelism()). */
  threads?: number;
}

/**
 * Puts the cpu backend's matmul (and the attention tiles built on it) on the WebAssembly SIMD GEMM,
 * and its softmax on the SIMD row softmax.
 * Returns false, and records why in `backendInfo().notes`, when the kernels cannot start; the JS
 * GEMM (float64 accumulation, the reference) then stays in use, visibly (`mode: 'js'`).
 */
export function useWasmKernels(options: UseWasmOptions = {}): boolean {
  try {
    initWasmKernelsSync(options.threads === undefined ? {} : { threads: options.threads });
    setCpuGemm(sgemm);
    wasmSgemm = sgemm;
    rowSoftmax = softmaxRows;
    decodeAttention = attentionDecode;
    gelu = { forward: geluTanh, backward: geluTanhGrad };
    setWasmBuffers(true);
    const info = wasmInfo();
    cpuState.mode = info.relaxedSimd ? 'wasm-simd-relaxed' : 'wasm-simd';
    cpuState.threads = info.threads;
    cpuState.notes = cpuState.notes.filter((n) => !n.startsWith('wasm kernels unavailable'));
    return true;
  } catch (error) {
    useJsKernels();
    cpuState.notes.push(`wasm kernels unavailable (${(error as Error).message}); using the JS GEMM`);
    return false;
  }
}

/** Puts the cpu backend back on the JS reference GEMM. */
export function useJsKernels(): void {
  setCpuGemm(sgemmJs);
  rowSoftmax = null;
  decodeAttention = null;
  gelu = null;
  wasmSgemm = null;
  setWasmBuffers(false);
  cpuState.mode = 'js';
  cpuState.threads = 1;
}

/** Sets the wasm GEMM's thread count (resolves when the workers are up). */
export async function setCpuThreads(threads: number): Promise<void> {
  await setThreads(threads);
  cpuState.threads = threads;
}
