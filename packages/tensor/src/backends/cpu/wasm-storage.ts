// f32 tensor buffers inside the wasm kernels' shared memory, so the GEMM, GELU and softmax use them in place.
import { freeF32 } from '../wasm/index.js';
import { getRuntime } from '../wasm/wasm-runtime.js';

/** Smallest buffer (elements) placed in wasm memory; smaller ones stay plain arrays (staging them is cheap). */
export const WASM_BUFFER_MIN = 2048;

/** Most bytes held in wasm memory at once; past it new buffers are plain arrays (the memory never shrinks). */
export const WASM_BUFFER_MAX_BYTES = 1024 * 1024 * 1024;

let enabled = false;
let bytesInWasm = 0;
// Buffers handed out by newF32 and not yet released: the only ones releaseF32 frees (so a second release is a no-op).
const live = new WeakSet<Float32Array>();
// A buffer dropped without dispose() is freed once it is collected; the held value is a zero-length view at the
// same address (a separate object, so holding it does not keep the buffer alive).
const collected = new FinalizationRegistry<{ at: Float32Array; bytes: number }>(({ at, bytes }) => {
  bytesInWasm -= bytes;
  freeF32(at);
});

/** @internal Turns wasm placement on (wasm kernels in use) or off (JS kernels); buffers already placed stay valid. */
export function setWasmBuffers(on: boolean): void {
  enabled = on;
}

/** @internal Bytes of tensor buffers currently in wasm memory. */
export function wasmBufferBytes(): number {
  return bytesInWasm;
}

/**
 * A zeroed Float32Array of `length` elements: inside the wasm memory while the wasm kernels are in use and
 * the buffer is large enough, else a plain array. Either way it is an ordinary Float32Array to its users;
 * release it with {@link releaseF32} (or let it be collected) when done.
 */
export function newF32(length: number): Float32Array {
  const view = placeF32(length);
  if (view === null) return new Float32Array(length);
  view.fill(0);
  return view;
}

/**
 * Like {@link newF32} but the elements start unspecified when the buffer is in wasm memory: for outputs
 * that a kernel writes in full (a GEMM with beta 0, an elementwise loop), which saves zeroing ~190 MB
 * per step of the reference training run.
 */
export function newF32Uninit(length: number): Float32Array {
  return placeF32(length) ?? new Float32Array(length);
}

// A block of the wasm memory for `length` floats, or null when it should be (or must be) a plain array.
function placeF32(length: number): Float32Array | null {
  const bytes = 4 * length;
  if (!enabled || length < WASM_BUFFER_MIN || bytesInWasm + bytes > WASM_BUFFER_MAX_BYTES) return null;
  let view: Float32Array;
  try {
    const { heap } = getRuntime();
    view = heap.f32(heap.alloc(bytes), length);
  } catch {
    return null; // NOTE: the 4 GiB wasm32 limit reached: plain arrays still work, only slower
  }
  bytesInWasm += bytes;
  live.add(view);
  collected.register(view, { at: view.subarray(0, 0), bytes }, view);
  return view;
}

/** Frees a buffer from {@link newF32} now (a plain array, or one already released, is left alone). */
export function releaseF32(view: Float32Array | Int32Array | Uint16Array): void {
  if (!(view instanceof Float32Array) || !live.has(view)) return;
  live.delete(view);
  collected.unregister(view);
  bytesInWasm -= 4 * view.length;
  freeF32(view);
}
