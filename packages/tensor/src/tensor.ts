// The Tensor: a strided view of backend storage with autograd metadata; its methods mirror the op functions.
import { runBackward, type GradFn } from './autograd.js';
import { findBackend, type Dtype, type Storage, type View } from './backend.js';
import { bf16ToF32, f16ToF32 } from './dtype.js';
import { TensorError, fmtShape } from './errors.js';
import { contiguousStrides, isContiguous, sizeOf } from './internal/shape.js';
import { releaseHolds, trackTensor, type GraphHold } from './scope.js';
import * as ops from './ops/index.js';
import type { GeluOptions, MatmulOptions } from './ops/index.js';

/** @internal Shared, reference-counted storage: views of one buffer free it once the last one is disposed. */
export interface StorageRef {
  storage: Storage;
  refs: number;
}

/** Nested JS arrays as returned by `toArray()`. */
export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional array on a backend with reverse-mode autograd.
 *
 * @example
 * const w = randn([4, 3], { rng: createRng(0), requiresGrad: true });
 * const loss = tensor([[1, 2, 3, 4]]).matmul(w).square().mean();
 * loss.backward(); // w.grad is (4, 3)
 */
export class Tensor {
  /** Dims, outermost first. */
  readonly shape: readonly number[];
  /** Element strides per dim (0 on broadcast dims). */
  readonly strides: readonly number[];
  /** Element offset into the storage. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: Dtype;
  /** Name of the backend holding the storage. */
  readonly backend: string;
  /** Whether gradients flow to (and, for leaves, accumulate in) this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient (leaves with requiresGrad only), or null. */
  grad: Tensor | null = null;
  /** @internal How this tensor was computed (null for leaves). */
  gradFn: GradFn | null = null;
  /** When true, no `scope()` disposes this tensor (see `keep`). */
  kept = false;
  /** @internal Tensors of ended scopes this tensor's graph keeps alive (freed with it; see `scope`). */
  holds: GraphHold[] = [];
  /** @internal True once a backward pass has run through this tensor. */
  backwardDone = false;
  /** Brand for duck-typed checks across module copies. */
  readonly isTensor = true;
  /** @internal */
  readonly ref: StorageRef;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(ref: StorageRef, shape: readonly number[], strides?: readonly number[], offset = 0, requiresGrad = false) {
    this.ref = ref;
    ref.refs++;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides === undefined ? contiguousStrides(shape) : [...strides]);
    this.offset = offset;
    this.dtype = ref.storage.dtype;
    this.backend = ref.storage.backend;
    this.requiresGrad = requiresGrad;
    trackTensor(this);
  }

  /** @internal A new tensor owning fresh storage. */
  static fromStorage(storage: Storage, shape: readonly number[]): Tensor {
    return new Tensor({ storage, refs: 0 }, shape);
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dims. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True when no op produced this tensor (parameters, inputs). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** True once `dispose()` ran (or a scope disposed it). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True when elements are row-major with no gaps. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** @internal The kernel view; throws TENSOR_DISPOSED after dispose. */
  view(op = 'op', arg = 'input'): View {
    this.assertAlive(op, arg);
    return { storage: this.ref.storage, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** @internal Throws TENSOR_DISPOSED naming the op and argument. */
  assertAlive(op: string, arg = 'input'): void {
    if (this.disposed) {
      throw new TensorError('TENSOR_DISPOSED', `${op}: ${arg} ${fmtShape(this.shape)} ${this.dtype} was disposed`, {
        hint: 'a scope() freed it or dispose() was called; return it from the scope or keep() it to use it later',
        details: { op, arg, shape: [...this.shape] },
      });
    }
  }

  /** Frees the storage once no other view uses it; later use throws TENSOR_DISPOSED. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ref.refs--;
    if (this.ref.refs === 0) findBackend(this.backend).free(this.ref.storage);
    this.gradFn = null;
    releaseHolds(this);
  }

  /** A contiguous copy of the elements (bf16/f16 decoded to f32). Reads back from the GPU when needed. */
  data(): Float32Array | Int32Array {
    this.assertAlive('data');
    const c = this.isContiguous && this.offset === 0 && this.size === this.ref.storage.size ? this : ops.contiguous(this, true);
    const raw = findBackend(this.backend).read(c.ref.storage);
    const size = this.size;
    let out: Float32Array | Int32Array;
    if (this.dtype === 'bf16') out = bf16ToF32((raw as Uint16Array).subarray(0, size));
    else if (this.dtype === 'f16') out = f16ToF32((raw as Uint16Array).subarray(0, size));
    else out = (raw as Float32Array | Int32Array).slice(0, size);
    if (c !== this) c.dispose();
    return out;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new TensorError('TENSOR_SHAPE_MISMATCH', `item: needs a one-element tensor, got ${fmtShape(this.shape)}`, { hint: 'reduce it first (sum/mean) or index with slice' });
    }
    return this.data()[0];
  }

  /** The elements as nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const flat = this.data();
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return flat[off];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * step));
    };
    return build(0, 0);
  }

  /** Overwrites the elements in place from host data (length = size), e.g. an optimizer step. No autograd. */
  write(data: Float32Array | Int32Array | ArrayLike<number>): void {
    ops.writeInto(this, data);
  }

  /** Copies `src` (broadcastable to this shape) into this tensor in place. No autograd. */
  assign(src: Tensor): void {
    ops.assignInto(this, src);
  }

  /** Runs reverse-mode autograd from this tensor (a scalar, or give the seed gradient). */
  backward(grad?: Tensor): void {
    this.assertAlive('backward');
    runBackward(this, grad);
  }

  /** The same storage cut off from the graph (a leaf with requiresGrad false). */
  detach(): Tensor {
    this.assertAlive('detach');
    return new Tensor(this.ref, this.shape, this.strides, this.offset);
  }

  /** Drops the accumulated gradient (disposing it). */
  zeroGrad(): void {
    if (this.grad !== null) {
      this.grad.kept = false;
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Marks requiresGrad in place and returns this (for parameters). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** Short description: `Tensor(2, 3) f32 cpu`. */
  toString(): string {
    return `Tensor${fmtShape(this.shape)} ${this.dtype} ${this.backend}${this.disposed ? ' (disposed)' : ''}`;
  }

  // ---- method mirrors of the op functions ----
  /** See `reshape`. */ reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  /** See `transpose`. */ transpose(dim0 = -2, dim1 = -1): Tensor { return ops.transpose(this, dim0, dim1); }
  /** See `permute`. */ permute(dims: readonly number[]): Tensor { return ops.permute(this, dims); }
  /** See `slice`. */ slice(dim: number, start: number, end?: number): Tensor { return ops.slice(this, dim, start, end); }
  /** See `broadcastTo`. */ broadcastTo(shape: readonly number[]): Tensor { return ops.broadcastTo(this, shape); }
  /** See `contiguous`. */ contiguous(): Tensor { return ops.contiguous(this); }
  /** See `unsqueeze`. */ unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  /** See `squeeze`. */ squeeze(dim?: number): Tensor { return ops.squeeze(this, dim); }
  /** See `flatten`. */ flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  /** See `split`. */ split(sizes: number | readonly number[], dim = 0): Tensor[] { return ops.split(this, sizes, dim); }
  /** See `add`. */ add(other: Tensor | number): Tensor { return ops.add(this, other); }
  /** See `sub`. */ sub(other: Tensor | number): Tensor { return ops.sub(this, other); }
  /** See `mul`. */ mul(other: Tensor | number): Tensor { return ops.mul(this, other); }
  /** See `div`. */ div(other: Tensor | number): Tensor { return ops.div(this, other); }
  /** See `pow`. */ pow(p: Tensor | number): Tensor { return ops.pow(this, p); }
  /** See `maximum`. */ maximum(other: Tensor | number): Tensor { return ops.maximum(this, other); }
  /** See `neg`. */ neg(): Tensor { return ops.neg(this); }
  /** See `exp`. */ exp(): Tensor { return ops.exp(this); }
  /** See `log`. */ log(): Tensor { return ops.log(this); }
  /** See `sqrt`. */ sqrt(): Tensor { return ops.sqrt(this); }
  /** See `tanh`. */ tanh(): Tensor { return ops.tanh(this); }
  /** See `abs`. */ abs(): Tensor { return ops.abs(this); }
  /** See `square`. */ square(): Tensor { return ops.square(this); }
  /** See `sigmoid`. */ sigmoid(): Tensor { return ops.sigmoid(this); }
  /** See `relu`. */ relu(): Tensor { return ops.relu(this); }
  /** See `gelu`. */ gelu(options?: GeluOptions): Tensor { return ops.gelu(this, options); }
  /** See `silu`. */ silu(): Tensor { return ops.silu(this); }
  /** See `sum`. */ sum(dim?: number | readonly number[], keepDim = false): Tensor { return ops.sum(this, dim, keepDim); }
  /** See `mean`. */ mean(dim?: number | readonly number[], keepDim = false): Tensor { return ops.mean(this, dim, keepDim); }
  /** See `max`. */ max(dim?: number, keepDim = false): Tensor { return ops.max(this, dim, keepDim); }
  /** See `matmul`. */ matmul(other: Tensor, options?: MatmulOptions): Tensor { return ops.matmul(this, other, options); }
  /** See `softmax`. */ softmax(dim = -1): Tensor { return ops.softmax(this, dim); }
  /** See `logSoftmax`. */ logSoftmax(dim = -1): Tensor { return ops.logSoftmax(this, dim); }
  /** See `toDtype`. */ toDtype(dtype: Dtype): Tensor { return ops.toDtype(this, dtype); }
}
