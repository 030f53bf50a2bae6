// The gpu backend's public surface: registration, what it really runs on, and the Xvfb helper for Node.
export { registerGpuBackend, gpuInfo, GpuBackend, GPU_BACKEND } from './backend.js';
export { ensureDisplay, type DisplayHandle, type EnsureDisplayOptions } from './display.js';
export { MAX_GPU_ELEMENTS, type GpuMode, type GpuRuntimeInfo, type GpuRuntimeOptions } from './runtime.js';
