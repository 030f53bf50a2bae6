// GpuStorage and the gpu Backend object: writes at an offset, dtypes round-trip, freed and oversized storages throw.
import { describe, expect, it } from 'vitest';
import { TensorError } from '../../errors.js';
import { GpuBackend } from './backend.js';
import { fill } from './kernels/memory.js';
import { MAX_GPU_ELEMENTS } from './runtime.js';
import { handleOf, type GpuStorage } from './storage.js';
import { gpuTestEnv } from './test-support.js';

const env = await gpuTestEnv();

describe.skipIf(env.rt === null)(`gpu storage${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  const be = new GpuBackend(env.rt!);

  it('allocates zeros, writes whole and at an offset, reads each dtype back', () => {
    const s = be.allocate(6, 'f32');
    expect(Array.from(be.read(s))).toEqual([0, 0, 0, 0, 0, 0]);
    be.write(s, Float32Array.from([1, 2, 3, 4, 5, 6]));
    be.write(s, Float32Array.from([-7, -8]), 3);
    expect(Array.from(be.read(s))).toEqual([1, 2, 3, -7, -8, 6]);
    const ids = be.allocate(3, 'i32');
    be.write(ids, Int32Array.from([0, 50256, -100]));
    const back = be.read(ids);
    expect(back).toBeInstanceOf(Int32Array);
    expect(Array.from(back)).toEqual([0, 50256, -100]);
    const half = be.allocate(2, 'bf16');
    be.write(half, Uint16Array.from([0x3f80, 0xffff]));
    expect(Array.from(be.read(half))).toEqual([0x3f80, 0xffff]);
  });

  it('a freed storage throws TENSOR_DISPOSED when a kernel reads it', () => {
    const s = be.allocate(4, 'f32') as GpuStorage;
    be.free(s);
    be.free(s); // idempotent
    expect(() => handleOf({ storage: s, shape: [4], strides: [1], offset: 0 }, 'exp')).toThrow(TensorError);
    expect(() => handleOf({ storage: s, shape: [4], strides: [1], offset: 0 }, 'exp')).toThrow(/gpu exp: the input's device memory was freed/);
  });

  it('refuses tensors past 2^24 elements before allocating anything', () => {
    let err: unknown;
    try {
      fill(env.rt!, MAX_GPU_ELEMENTS + 1, 'f32', 0);
    } catch (e) {
      err = e;
    }
    expect((err as TensorError).code).toBe('TENSOR_BAD_ARGUMENT');
    expect((err as TensorError).message).toContain('16777217 elements');
  });

  it('empty storages need no texture', () => {
    const s = be.allocate(0, 'f32') as GpuStorage;
    expect(s.handle).toBeNull();
    expect(be.read(s).length).toBe(0);
  });
});
