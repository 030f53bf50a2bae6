// The WebAssembly SIMD CPU kernels: init and threads, shared-memory buffers, and the kernels themselves.

// Lifecycle and threads
export { initWasmKernels, initWasmKernelsSync, wasmKernelsReady, setThreads, wasmInfo } from './wasm-runtime';
export type { WasmKernelOptions, WasmInfo } from './wasm-runtime';

// Buffers inside the shared memory (used in place by the kernels)
export { allocF32, freeF32, isWasmF32 } from './alloc';

// Kernels
export { sgemm, PARALLEL_MIN_FLOPS } from './sgemm';
export type { SgemmArgs } from './sgemm';
export { softmaxRows, SOFTMAX_PARALLEL_MIN } from './softmax';
export type { SoftmaxRowsArgs } from './softmax';
export { geluTanh, geluTanhGrad, GELU_PARALLEL_MIN } from './gelu';
export type { GeluArgs, GeluGradArgs } from './gelu';
export { attentionDecode, attentionDecodeMaxKeys, ATTENTION_DECODE_PARALLEL_MIN } from './attention-decode';
export type { AttentionDecodeArgs } from './attention-decode';

// Errors
export { WasmKernelError } from './wasm-kernel-error';
export type { WasmKernelErrorCode } from './wasm-kernel-error';
