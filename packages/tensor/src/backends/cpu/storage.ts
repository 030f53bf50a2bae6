// The cpu backend's storage: a typed array per tensor buffer (large f32 ones in the wasm memory; `free` releases it).
import type { Backend, BackendInfo, Dtype, Storage } from '../../backend.js';
import { getCpuGemm } from './kernels/matmul.js';
import { newF32, releaseF32 } from './wasm-storage.js';

/** A cpu storage: the typed array itself (Float32Array for f32, Int32Array for i32, Uint16Array for bf16/f16). */
export interface CpuStorage extends Storage {
  readonly backend: 'cpu';
  /** The elements. */
  data: Float32Array | Int32Array | Uint16Array;
}

/** Allocates a typed array of the right kind for a dtype. */
export function typedArrayFor(dtype: Dtype, size: number): Float32Array | Int32Array | Uint16Array {
  if (dtype === 'f32') return newF32(size);
  if (dtype === 'i32') return new Int32Array(size);
  return new Uint16Array(size);
}

/** Wraps an existing typed array as cpu storage (no copy). */
export function cpuStorage(dtype: Dtype, data: Float32Array | Int32Array | Uint16Array): CpuStorage {
  return { backend: 'cpu', dtype, size: data.length, data };
}

/** The f32 data of a cpu storage. */
export function f32(s: Storage): Float32Array {
  return (s as CpuStorage).data as Float32Array;
}

/** The i32 data of a cpu storage. */
export function i32(s: Storage): Int32Array {
  return (s as CpuStorage).data as Int32Array;
}

/** Mutable facts the cpu backend reports through `backendInfo()`. */
export const cpuState = { mode: 'js', threads: 1, notes: [] as string[] };

/** The cpu backend's storage management. */
export const cpuBackend: Backend = {
  name: 'cpu',
  allocate(size: number, dtype: Dtype): CpuStorage {
    return cpuStorage(dtype, typedArrayFor(dtype, size));
  },
  read(storage: Storage) {
    return (storage as CpuStorage).data;
  },
  write(storage: Storage, data: Float32Array | Int32Array | Uint16Array, offset = 0) {
    ((storage as CpuStorage).data as Float32Array).set(data as Float32Array, offset);
  },
  free(storage: Storage) {
    releaseF32((storage as CpuStorage).data);
    (storage as CpuStorage).data = EMPTY;
  },
  info(): BackendInfo {
    getCpuGemm(); // settles wasm vs JS so the report is what matmul will use
    return { name: 'cpu', mode: cpuState.mode, precision: 'f32', threads: cpuState.threads, notes: [...cpuState.notes] };
  },
};

const EMPTY = new Float32Array(0);
