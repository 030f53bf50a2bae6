// The Backend interface, the kernel registry keyed by (backend, kernel name), and the active-backend switch.
import { TensorError } from './errors.js';
import type { KernelName, KernelSignatures } from './kernels/names.js';

/** Element type of a tensor: f32 compute, bf16/f16 storage (16-bit, round to nearest even), i32 indices. */
export type Dtype = 'f32' | 'i32' | 'bf16' | 'f16';

/**
 * A block of memory owned by one backend. Backends extend it with their own handle
 * (the cpu backend adds `data`, the gpu backend a texture or array).
 */
export interface Storage {
  /** Name of the backend that owns it. */
  readonly backend: string;
  /** Element type stored. bf16/f16 are 16-bit bit patterns. */
  readonly dtype: Dtype;
  /** Number of elements. */
  readonly size: number;
}

/**
 * A strided view of a storage, what every kernel receives: element (i0, i1, ...) lives at
 * `offset + Σ ik·strides[k]`. Broadcast dims have stride 0; transposes swap strides.
 */
export interface View {
  /** The storage read. */
  readonly storage: Storage;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Element strides per dim (may be 0 for broadcast dims). */
  readonly strides: readonly number[];
  /** Element offset of index (0, ..., 0). */
  readonly offset: number;
}

/** What a backend reports about itself: the mode and precision it actually runs with. */
export interface BackendInfo {
  /** Backend name (`cpu`, `gpu`). */
  name: string;
  /** Concrete execution mode (`js`, `wasm-simd`, `headlessgl`, `webgl2`, ...). */
  mode: string;
  /** Floating-point precision of compute (`f32`, or `f16` where a GPU gives only half precision). */
  precision: 'f32' | 'f16' | 'f64';
  /** Threads in use, where it applies. */
  threads?: number;
  /** Anything else worth knowing (fallbacks taken, device name). */
  notes?: string[];
}

/** A backend: storage management. Kernels are registered separately with `registerKernel`. */
export interface Backend {
  /** Unique name used by `setBackend` and `registerKernel`. */
  readonly name: string;
  /** Allocates `size` zero-filled elements of `dtype`. */
  allocate(size: number, dtype: Dtype): Storage;
  /** Reads the whole storage back to the host (f32 → Float32Array, i32 → Int32Array, bf16/f16 → Uint16Array). */
  read(storage: Storage): Float32Array | Int32Array | Uint16Array;
  /** Writes host data into the storage starting at element `offset` (default 0). */
  write(storage: Storage, data: Float32Array | Int32Array | Uint16Array, offset?: number): void;
  /** Frees device memory now. Using the storage afterwards is a bug the Tensor layer prevents. */
  free(storage: Storage): void;
  /** Mode and precision actually in use. */
  info(): BackendInfo;
}

/** A kernel implementation for one backend. */
export interface KernelConfig<K extends KernelName = KernelName> {
  /** Kernel name (see `KernelSignatures`). */
  name: K;
  /** Backend name it runs on. */
  backend: string;
  /** The implementation. */
  run: KernelSignatures[K];
}

const backends = new Map<string, Backend>();
const kernels = new Map<string, KernelConfig>();
let active: string | null = null;

/** Registers a backend; the first one registered becomes active unless `setBackend` picks another. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
  if (active === null) active = backend.name;
}

/** The backend object by name (default: the active one). Throws TENSOR_UNKNOWN_BACKEND. */
export function findBackend(name?: string): Backend {
  const key = name ?? active;
  const b = key === null ? undefined : backends.get(key);
  if (b === undefined) {
    throw new TensorError('TENSOR_UNKNOWN_BACKEND', `no backend named '${key}' is registered (have: ${[...backends.keys()].join(', ') || 'none'})`, {
      hint: "import the backend's module (the cpu backend registers itself when @lmkit/tensor loads)",
    });
  }
  return b;
}

/** Makes `name` the backend new tensors are created on. */
export function setBackend(name: string): void {
  findBackend(name);
  active = name;
}

/** Name of the active backend. */
export function getBackend(): string {
  return findBackend().name;
}

/** Mode and precision of the active backend (or the named one). */
export function backendInfo(name?: string): BackendInfo {
  return findBackend(name).info();
}

/** Names of all registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/**
 * Registers a kernel implementation for a backend; a later registration of the same
 * (backend, name) replaces the earlier one (so a faster kernel can take over).
 *
 * @example
 * registerKernel({ name: 'exp', backend: 'gpu', run: (x) => ... });
 */
export function registerKernel<K extends KernelName>(config: KernelConfig<K>): void {
  kernels.set(`${config.backend}/${config.name}`, config as unknown as KernelConfig);
}

/** Looks up a kernel; throws TENSOR_MISSING_KERNEL naming the backend and the fix. */
export function getKernel<K extends KernelName>(name: K, backend: string): KernelSignatures[K] {
  const k = kernels.get(`${backend}/${name}`);
  if (k === undefined) {
    throw new TensorError('TENSOR_MISSING_KERNEL', `backend '${backend}' has no kernel '${name}'`, {
      hint: `register one with registerKernel({ name: '${name}', backend: '${backend}', run }), or run this op on the cpu backend (setBackend('cpu'))`,
      details: { kernel: name, backend },
    });
  }
  return k.run as KernelSignatures[K];
}

/** True when (backend, name) has a kernel. */
export function hasKernel(name: KernelName, backend: string): boolean {
  return kernels.has(`${backend}/${name}`);
}
