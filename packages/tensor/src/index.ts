// @lmkit/tensor public API: tensors with autograd over a kernel registry with cpu and gpu backends.
import { registerCpuBackend } from './backends/cpu/index.js';

registerCpuBackend();

// Errors
export { TensorError, type TensorErrorCode } from './errors.js';

// Tensor, autograd and memory scopes
export { Tensor, type NestedArray } from './tensor.js';
export { noGrad, isGradEnabled } from './autograd.js';
export { scope, keep } from './scope.js';

// Creation
export {
  tensor, fromArray, zeros, ones, full, zerosLike, onesLike, arange, randn, rand,
  type TensorOptions, type RandnOptions, type RandOptions,
} from './ops/creation.js';
export { createRng, Rng, type RngState } from './rng.js';

// Views and shape ops
export { reshape, transpose, permute, slice, broadcastTo, contiguous, unsqueeze, squeeze, flatten, concat, split } from './ops/views.js';

// Elementwise
export { add, sub, mul, div, pow, maximum, eq, gt, neg, exp, log, sqrt, tanh, abs, square, sigmoid, relu, gelu, silu, type GeluOptions } from './ops/elementwise.js';

// Reductions and matmul
export { sum, mean, max } from './ops/reduce.js';
export { matmul, type MatmulOptions } from './ops/matmul.js';

// Neural-network ops (fused where it pays)
export { softmax, logSoftmax, layerNorm, rmsNorm, dropout } from './ops/nn.js';
export { crossEntropy, type CrossEntropyOptions } from './ops/loss.js';
export { attention, rope, type AttentionOptions, type RopeOptions } from './ops/attention.js';
export { embedding } from './ops/embedding.js';

// Dtypes
export { toDtype } from './ops/dtype.js';
export { f32ToBf16, bf16ToF32, f32ToF16, f16ToF32, roundBf16, roundF16 } from './dtype.js';

// Backends and the kernel registry
export {
  registerBackend, findBackend, setBackend, getBackend, backendInfo, listBackends, registerKernel, getKernel, hasKernel,
  type Backend, type BackendInfo, type Storage, type View, type Dtype, type KernelConfig,
} from './backend.js';
export { KERNEL_NAMES, type KernelName, type KernelSignatures, type AttentionKernelOptions } from './kernels/names.js';
export { setCpuGemm, getCpuGemm, sgemmJs, type SgemmParams, type Sgemm } from './backends/cpu/index.js';
export { useWasmKernels, useJsKernels, setCpuThreads, type UseWasmOptions } from './backends/cpu/index.js';

// Advanced: WebAssembly threads (a synchronous worker pool over a module's job function in shared memory)
export {
  WasmJobPool, WASM_JOB_POOL_MAX_WORKERS, type WasmJobPoolOptions, type WasmJobFailure,
} from './backends/wasm/job-pool.js';

// The gpu backend (gpu.js; loaded only when registered): registerGpuBackend() then setBackend('gpu')
export { registerGpuBackend, gpuInfo, ensureDisplay, type GpuRuntimeOptions, type GpuRuntimeInfo, type GpuMode, type DisplayHandle, type EnsureDisplayOptions } from './backends/gpu/index.js';

// Testing: the conformance suite every backend runs (float64 references, finite-difference gradients)
export {
  runConformance, runConformanceCase, conformanceCases,
  type ConformanceCaseDef, type ConformanceResult, type ConformanceReport, type ConformanceOptions,
} from './testing/conformance.js';
export { type CaseContext, type Tolerance } from './testing/harness.js';
