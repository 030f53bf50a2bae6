// The gpu backend: storage on gpu.js textures, every kernel registered under backend 'gpu', mode and precision reported.
import { registerBackend, registerKernel, type Backend, type BackendInfo, type Dtype, type Storage } from '../../backend.js';
import type { KernelName, KernelSignatures } from '../../kernels/names.js';
import { GpuRuntime, type GpuRuntimeInfo, type GpuRuntimeOptions } from './runtime.js';
import { deleteHandle, GpuStorage, readStorage, uploadStorage, checkSize } from './storage.js';
import { assign, cast, copy, fill } from './kernels/memory.js';
import { binary, unary, unaryGrad } from './kernels/elementwise.js';
import { reduce } from './kernels/reduce.js';
import { matmul } from './kernels/matmul.js';
import { logSoftmax, logSoftmaxGrad, softmax, softmaxGrad } from './kernels/softmax.js';
import { layernorm, layernormGrad, rmsnorm, rmsnormGrad } from './kernels/norm.js';
import { crossEntropy, crossEntropyGrad } from './kernels/cross-entropy.js';
import { embedding, embeddingGrad } from './kernels/embedding.js';
import { rope } from './kernels/rope.js';
import { attention, attentionGrad } from './kernels/attention.js';

/** Backend name the gpu backend registers under. */
export const GPU_BACKEND = 'gpu';

/** The gpu backend object: storage management over one GpuRuntime. */
export class GpuBackend implements Backend {
  readonly name = GPU_BACKEND;
  constructor(readonly runtime: GpuRuntime) {}

  allocate(size: number, dtype: Dtype): Storage {
    return fill(this.runtime, size, dtype, 0);
  }

  read(storage: Storage): Float32Array | Int32Array | Uint16Array {
    return readStorage(this.runtime, storage as GpuStorage);
  }

  write(storage: Storage, data: Float32Array | Int32Array | Uint16Array, offset = 0): void {
    const s = storage as GpuStorage;
    let whole: Float32Array | Int32Array | Uint16Array = data;
    if (offset !== 0 || data.length !== s.size) {
      checkSize(s.size, 'write');
      const current = Float32Array.from(readStorage(this.runtime, s));
      current.set(Float32Array.from(data), offset);
      whole = current;
    }
    const next = uploadStorage(this.runtime, whole, s.dtype);
    deleteHandle(s.handle);
    s.handle = next.handle;
  }

  free(storage: Storage): void {
    (storage as GpuStorage).release();
  }

  info(): BackendInfo {
    const i = this.runtime.info;
    return {
      name: GPU_BACKEND,
      mode: i.mode,
      precision: i.shaderFloatBits === null || i.shaderFloatBits >= 23 ? 'f32' : 'f16',
      notes: [
        `gpu.js kernel class ${i.kernelClass}, precision '${i.precision}'`,
        ...(i.renderer === null ? [] : [`GL renderer: ${i.renderer}`]),
        ...(i.precision === 'unsigned' ? ["precision 'unsigned': f32 packed in RGBA8 textures — up to 1 ulp lost per kernel, NaN/±Inf not kept, naive matmul only"] : []),
        ...(i.onGl ? [] : [`no GPU: running the gpu backend's kernels on ${i.kernelClass} because mode '${i.requestedMode}' was asked for`]),
        ...(i.onGl && i.renderer !== null && /llvmpipe|softpipe|swiftshader/i.test(i.renderer) ? ['software rasterizer: correct but CPU-speed'] : []),
      ],
    };
  }
}

/** Every kernel of the registry implemented on the gpu runtime. */
function kernelTable(rt: GpuRuntime): { [K in KernelName]: KernelSignatures[K] } {
  const un = (name: string) => (x: Parameters<KernelSignatures['exp']>[0]) => unary(rt, name, x);
  const ug = (name: string) => (x: Parameters<KernelSignatures['relu_grad']>[0], dy: Parameters<KernelSignatures['relu_grad']>[1]) => unaryGrad(rt, name, x, dy);
  const bi = (name: string) => (a: Parameters<KernelSignatures['add']>[0], b: Parameters<KernelSignatures['add']>[1]) => binary(rt, name, a, b);
  return {
    fill: (size, dtype, value) => fill(rt, size, dtype, value),
    copy: (x) => copy(rt, x),
    assign: (dst, src) => assign(rt, dst, src),
    cast: (x, dtype) => cast(rt, x, dtype),
    neg: un('neg'), exp: un('exp'), log: un('log'), sqrt: un('sqrt'), tanh: un('tanh'), abs: un('abs'), sigmoid: un('sigmoid'),
    relu: un('relu'), gelu: un('gelu'), gelu_erf: un('gelu_erf'), silu: un('silu'),
    relu_grad: ug('relu_grad'), gelu_grad: ug('gelu_grad'), gelu_erf_grad: ug('gelu_erf_grad'), silu_grad: ug('silu_grad'),
    add: bi('add'), sub: bi('sub'), mul: bi('mul'), div: bi('div'), pow: bi('pow'), maximum: bi('maximum'), eq: bi('eq'), gt: bi('gt'),
    sum: (x, axis) => reduce(rt, 'sum', x, axis),
    max: (x, axis) => reduce(rt, 'max', x, axis),
    matmul: (a, b) => matmul(rt, a, b),
    softmax: (x) => softmax(rt, x),
    softmax_grad: (y, dy) => softmaxGrad(rt, y, dy),
    log_softmax: (x) => logSoftmax(rt, x),
    log_softmax_grad: (y, dy) => logSoftmaxGrad(rt, y, dy),
    layernorm: (x, w, b, eps) => layernorm(rt, x, w, b, eps),
    layernorm_grad: (x, w, mean, rstd, dy) => layernormGrad(rt, x, w, mean, rstd, dy),
    rmsnorm: (x, w, eps) => rmsnorm(rt, x, w, eps),
    rmsnorm_grad: (x, w, rstd, dy) => rmsnormGrad(rt, x, w, rstd, dy),
    cross_entropy: (logits, targets, ignoreIndex) => crossEntropy(rt, logits, targets, ignoreIndex),
    cross_entropy_grad: (logits, targets, lse, dloss, ignoreIndex) => crossEntropyGrad(rt, logits, targets, lse, dloss, ignoreIndex),
    attention: (q, k, v, opts) => attention(rt, q, k, v, opts),
    attention_grad: (q, k, v, o, lse, dout, opts) => attentionGrad(rt, q, k, v, o, lse, dout, opts),
    rope: (x, positionOffset, theta, inverse) => rope(rt, x, positionOffset, theta, inverse),
    embedding: (w, ids) => embedding(rt, w, ids),
    embedding_grad: (ids, dy, vocab) => embeddingGrad(rt, ids, dy, vocab),
  };
}

let current: GpuBackend | null = null;

/**
 * Creates the gpu.js runtime, checks the kernel class it really got, and registers the `gpu`
 * backend with every kernel. Throws TENSOR_GPU_UNAVAILABLE (never falls back) when mode `gpu`
 * finds no GL; pass `{ mode: 'webasm' }` or `{ mode: 'cpu' }` to opt into a CPU mode by name.
 * Calling it again replaces the previous runtime.
 *
 * @example
 * await ensureDisplay();                // Node without X: start Xvfb
 * const info = registerGpuBackend();    // { mode: 'headlessgl', kernelClass: 'HeadlessGLKernel', ... }
 * setBackend('gpu');
 */
export function registerGpuBackend(options: GpuRuntimeOptions = {}): GpuRuntimeInfo {
  const rt = new GpuRuntime(options);
  const previous = current;
  current = new GpuBackend(rt);
  registerBackend(current);
  const table = kernelTable(rt);
  for (const name of Object.keys(table) as KernelName[]) {
    registerKernel({ name, backend: GPU_BACKEND, run: table[name] } as never);
  }
  previous?.runtime.destroy();
  return rt.info;
}

/** What the registered gpu backend really runs on, or null when `registerGpuBackend` has not succeeded. */
export function gpuInfo(): GpuRuntimeInfo | null {
  return current?.runtime.info ?? null;
}
