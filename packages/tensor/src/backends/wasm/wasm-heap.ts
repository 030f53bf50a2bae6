// The shared WebAssembly memory every kernel thread sees, and a first-fit allocator over it.
import { WasmKernelError } from './wasm-kernel-error';

const PAGE = 65536;
/** Byte alignment of every block (one cache line, so f32x4 loads of a block's start are aligned). */
const ALIGN = 64;
/** wasm32 addresses 4 GiB; the memory is declared with this maximum so it can grow in place. */
const MAX_PAGES = 65536;

interface FreeBlock {
  /** Byte offset of the block. */
  offset: number;
  /** Byte size of the block. */
  size: number;
}

/**
 * A `WebAssembly.Memory({ shared: true })` plus an allocator for float buffers inside it.
 *
 * NOTE: a shared memory never detaches its buffer when it grows (a non-shared one would, and
 * every view would silently become empty), so views handed out stay valid for the heap's life.
 * `memory.buffer` returns a new SharedArrayBuffer object after each growth; `owns()` knows them all.
 */
export class WasmHeap {
  /** The shared memory the kernels' instances import as `env.memory`. */
  readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number;
  private readonly free: FreeBlock[] = [];
  private readonly live = new Map<number, number>();
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  /**
   * @param base first byte the allocator may use (the module's `__heap_base`)
   * @param initialPages pages to commit up front (grown on demand up to 4 GiB)
   */
  constructor(base: number, initialPages: number) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    this.base = alignUp(base);
    this.top = this.base;
    this.buffers.add(this.memory.buffer);
  }

  /** Bytes currently allocated (live blocks, rounded to the alignment). */
  get bytesInUse(): number {
    let sum = 0;
    for (const size of this.live.values()) sum += size;
    return sum;
  }

  /** True when `view` is a view into this heap's memory (then kernels read it in place). */
  owns(view: ArrayBufferView): boolean {
    return this.buffers.has(view.buffer);
  }

  /** Allocates `bytes` (aligned to 64) and returns the byte offset. Throws TENSOR_OUT_OF_MEMORY. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size < size) continue;
      const offset = block.offset;
      if (block.size === size) this.free.splice(i, 1);
      else {
        block.offset += size;
        block.size -= size;
      }
      this.live.set(offset, size);
      return offset;
    }
    const offset = this.top;
    this.ensure(offset + size);
    this.top = offset + size;
    this.live.set(offset, size);
    return offset;
  }

  /** Frees the block at `offset`; throws TENSOR_BAD_ARGUMENT for an offset that is not a live block. */
  release(offset: number): void {
    const size = this.live.get(offset);
    if (size === undefined) {
      throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `wasm heap: no live block at byte offset ${offset}`, {
        hint: 'free each buffer from allocF32 exactly once',
      });
    }
    this.live.delete(offset);
    // Insert sorted by offset, merging with the neighbours on both sides.
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    let block: FreeBlock = { offset, size };
    const prev = this.free[lo - 1];
    if (prev && prev.offset + prev.size === offset) {
      prev.size += size;
      block = prev;
      lo -= 1;
    } else this.free.splice(lo, 0, block);
    const next = this.free[lo + 1];
    if (next && block.offset + block.size === next.offset) {
      block.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    // A free block that ends at the top returns to the bump region.
    if (block.offset + block.size === this.top) {
      this.top = block.offset;
      this.free.splice(lo, 1);
    }
  }

  /** A Float32Array view of `length` floats at byte `offset` (over the current buffer). */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.buffer(), offset, length);
  }

  /** An Int32Array view of `length` ints at byte `offset`. */
  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.buffer(), offset, length);
  }

  /** The memory's current buffer, remembered so that owns() recognizes views over it. */
  private buffer(): ArrayBufferLike {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return buffer;
  }

  /** Grows the memory so that bytes [0, end) exist. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    // Grow geometrically (by at least a quarter) to keep the number of grows small.
    const room = MAX_PAGES - have / PAGE;
    const delta = Math.min(Math.max(pages, Math.ceil(have / PAGE / 4)), room);
    try {
      if (delta < pages) throw new RangeError(`needs ${pages} more pages, ${room} left`);
      this.memory.grow(delta);
    } catch (cause) {
      throw new WasmKernelError('TENSOR_OUT_OF_MEMORY', `wasm heap: cannot grow to ${end} bytes (now ${have}, limit 4 GiB)`, {
        hint: 'free buffers you no longer need (freeF32), or use smaller batches',
        cause,
      });
    }
    this.buffers.add(this.memory.buffer);
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
