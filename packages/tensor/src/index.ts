// @lmkit/tensor public API: tensors with autograd over a kernel registry with cpu and gpu backends.

// Errors
export { TensorError, type TensorErrorCode } from './errors.js';

// Backends and the kernel registry
export {
  registerBackend, findBackend, setBackend, getBackend, backendInfo, listBackends, registerKernel, getKernel, hasKernel,
  type Backend, type BackendInfo, type Storage, type View, type Dtype, type KernelConfig,
} from './backend.js';
export { KERNEL_NAMES, type KernelName, type KernelSignatures, type AttentionKernelOptions } from './kernels/names.js';
