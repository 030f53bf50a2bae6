// GpuStorage: a tensor's memory on the gpu backend — one gpu.js texture (or a host array in the CPU opt-in modes).
import type { Texture } from 'gpu.js';
import type { Dtype, Storage, View } from '../../backend.js';
import { TensorError } from '../../errors.js';
import { MAX_GPU_ELEMENTS, textureStats, type GpuRuntime } from './runtime.js';

/** What a storage holds: a texture on GL, a Float32Array (or array of vec4s) off GL, nothing when empty or freed. */
export type GpuHandle = Texture | Float32Array | null;

/**
 * Device memory of the gpu backend. Every dtype is kept as f32 texels: i32 ids and the 16-bit
 * patterns of bf16/f16 are exact in f32 (ids up to 2^24).
 */
export class GpuStorage implements Storage {
  readonly backend = 'gpu';
  /** The device handle; replaced by `write`, null once freed. */
  handle: GpuHandle;
  /** True after `free`. */
  freed = false;

  constructor(readonly dtype: Dtype, readonly size: number, handle: GpuHandle) {
    this.handle = handle;
  }

  /** Deletes the texture now (idempotent). */
  release(): void {
    deleteHandle(this.handle);
    this.handle = null;
    this.freed = true;
  }
}

/** Deletes a texture handle; host arrays need nothing. */
export function deleteHandle(handle: GpuHandle): void {
  if (handle !== null && !(handle instanceof Float32Array) && typeof (handle as Texture).delete === 'function') {
    const t = handle as unknown as { _deleted: boolean; kernel: { context?: unknown } | null; delete(): void };
    if (!t._deleted) textureStats.live--;
    // NOTE: a texture outliving its evicted (destroyed) kernel would ask that kernel, which has no context
    // left, to free it — and nothing would; detached, gpu.js frees it through the shared context itself.
    if (t.kernel !== null && t.kernel.context === undefined) t.kernel = null;
    t.delete();
  }
}

/** The handle a kernel reads for a view; throws on freed or foreign storage. */
export function handleOf(view: View, op: string): Texture | Float32Array {
  const s = view.storage;
  if (!(s instanceof GpuStorage)) {
    throw new TensorError('TENSOR_BACKEND_MISMATCH', `gpu ${op}: got storage of backend '${s.backend}'`, {
      hint: 'move the tensor to the gpu backend first (create it while setBackend("gpu") is active)',
    });
  }
  if (s.freed || s.handle === null) {
    throw new TensorError('TENSOR_DISPOSED', `gpu ${op}: the input's device memory was freed`, {
      hint: 'keep the tensor alive (return it from scope(), do not dispose() it) while it is still used',
    });
  }
  return s.handle as Texture | Float32Array;
}

/** Wraps a kernel output as a storage of `size` elements. */
export function wrap(handle: GpuHandle, size: number, dtype: Dtype = 'f32'): GpuStorage {
  return new GpuStorage(dtype, size, handle);
}

/** An empty (size 0) storage: no texture is ever created for it. */
export function empty(dtype: Dtype = 'f32'): GpuStorage {
  return new GpuStorage(dtype, 0, null);
}

/** Throws when a storage is too large for exact float32 index arithmetic in the shaders. */
export function checkSize(size: number, op: string): void {
  if (size > MAX_GPU_ELEMENTS) {
    throw new TensorError('TENSOR_BAD_ARGUMENT', `gpu ${op}: ${size} elements exceed the gpu backend's limit of ${MAX_GPU_ELEMENTS} (2^24) per tensor`, {
      hint: 'the shaders index in float32; split the tensor or run this op on the cpu backend',
      details: { op, size, limit: MAX_GPU_ELEMENTS },
    });
  }
}

/** Uploads host data (any dtype's values as f32) into a new storage. */
export function uploadStorage(rt: GpuRuntime, data: Float32Array | Int32Array | Uint16Array, dtype: Dtype): GpuStorage {
  if (data.length === 0) return empty(dtype);
  checkSize(data.length, 'upload');
  const f = data instanceof Float32Array ? data : Float32Array.from(data);
  return wrap(rt.info.onGl ? rt.upload(f) : f.slice(), data.length, dtype);
}

/** Reads a storage back as its host dtype. */
export function readStorage(rt: GpuRuntime, s: GpuStorage): Float32Array | Int32Array | Uint16Array {
  const f = s.size === 0 ? new Float32Array(0) : downloadHandle(rt, handleOf({ storage: s, shape: [s.size], strides: [1], offset: 0 }, 'read'), s.size);
  if (s.dtype === 'i32') return Int32Array.from(f);
  if (s.dtype === 'bf16' || s.dtype === 'f16') return Uint16Array.from(f);
  return f;
}

/** Host floats of a handle (a copy). */
export function downloadHandle(rt: GpuRuntime, h: Texture | Float32Array, n: number): Float32Array {
  if (h instanceof Float32Array) return h.slice(0, n);
  return rt.download(h, n);
}
