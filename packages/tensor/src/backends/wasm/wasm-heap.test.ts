// WasmHeap: first-fit allocation, coalescing frees, growth that keeps earlier views valid.
import { expect, test } from 'vitest';
import { WasmHeap } from './wasm-heap';

test('allocates aligned blocks, reuses and coalesces freed ones', () => {
  const heap = new WasmHeap(1000, 1);
  const a = heap.alloc(10);
  const b = heap.alloc(100);
  const c = heap.alloc(64);
  expect([a, b, c].every((x) => x % 64 === 0)).toBe(true);
  expect(a).toBe(1024);
  expect(b).toBe(a + 64);
  expect(c).toBe(b + 128);
  heap.release(a);
  heap.release(b); // merges with a's block: 192 bytes free at a
  expect(heap.alloc(150)).toBe(a);
  heap.release(a);
  heap.release(c); // everything free again: the bump pointer returns to the start
  expect(heap.bytesInUse).toBe(0);
  expect(heap.alloc(1)).toBe(a);
  expect(() => heap.release(12345)).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
});

test('grows the shared memory without detaching earlier views', () => {
  const heap = new WasmHeap(0, 1);
  const first = heap.f32(heap.alloc(16), 4);
  first.set([1, 2, 3, 4]);
  const big = heap.alloc(1 << 20);
  expect(heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(big + (1 << 20));
  expect(Array.from(first)).toEqual([1, 2, 3, 4]);
  expect(heap.owns(first) && heap.owns(heap.f32(big, 4))).toBe(true);
  expect(() => heap.alloc(2 ** 32)).toThrow(expect.objectContaining({ code: 'TENSOR_OUT_OF_MEMORY' }));
});
