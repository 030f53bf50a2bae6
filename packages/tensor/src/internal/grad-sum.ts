// The running sum of one tensor's gradient during backward: dense contributions, and slice contributions written in place.
import { TensorError, fmtShape } from '../errors.js';
import { castRaw } from '../ops/dtype.js';
import type { Tensor } from '../tensor.js';
import { contiguousStrides, sizeOf } from './shape.js';
import { kernelFor, wrap } from './dispatch.js';

/**
 * @internal A gradient that is zero outside `[start, start + grad.shape[dim])` along `dim` of the
 * input: what a slice (and so each piece of `split`) hands back instead of a zero-padded full tensor.
 */
export interface SliceGrad {
  /** Brand. */
  readonly kind: 'slice';
  /** The gradient of the slice (the slice's shape). */
  readonly grad: Tensor;
  /** Dim the slice was taken along. */
  readonly dim: number;
  /** First index of the slice along `dim`. */
  readonly start: number;
}

/** @internal What a GradFn returns per input. */
export type GradContribution = Tensor | SliceGrad | null;

/** @internal Wraps a slice's gradient for the accumulator. */
export function sliceGrad(grad: Tensor, dim: number, start: number): SliceGrad {
  return { kind: 'slice', grad, dim, start };
}

/**
 * @internal Sums the gradient contributions to one tensor. Dense ones add as tensors; slice ones go
 * into one zero-filled buffer of the input's shape, owned here, by assignment where the region is
 * still untouched and by a region-sized add where it overlaps earlier writes, so k pieces of a split
 * cost one full-size buffer instead of k zero-padded tensors and k − 1 full-size adds.
 */
export class GradSum {
  private dense: Tensor | null = null;
  private buffer: Tensor | null = null;
  // Regions of `buffer` written so far as [dim, start, end); null once the whole buffer holds data.
  private written: [number, number, number][] | null = [];

  constructor(
    private readonly shape: readonly number[],
    private readonly add: (a: Tensor, b: Tensor) => Tensor,
  ) {}

  /** Adds one contribution (its shape must match the input, or the slice it names). */
  push(c: Tensor | SliceGrad, op: string): void {
    if ((c as SliceGrad).kind !== 'slice') {
      const g = c as Tensor;
      checkShape(g.shape, this.shape, op);
      if (this.buffer !== null) {
        this.buffer = this.add(this.buffer, g);
        this.written = null;
      } else this.dense = this.dense === null ? g : this.add(this.dense, g);
      return;
    }
    const { dim, start } = c as SliceGrad;
    const grad = (c as SliceGrad).grad.dtype === 'f32' ? (c as SliceGrad).grad : castRaw((c as SliceGrad).grad, 'f32');
    const want = [...this.shape];
    want[dim] = grad.shape[dim] ?? -1;
    checkShape(grad.shape, want, op);
    if (start < 0 || start + grad.shape[dim]! > this.shape[dim]!) checkShape(grad.shape, this.shape, op);
    const buffer = this.ownBuffer(grad);
    const strides = contiguousStrides(this.shape);
    const region = { storage: buffer.ref.storage, shape: grad.shape, strides, offset: start * strides[dim]! };
    const end = start + grad.shape[dim]!;
    const fresh = this.written !== null && this.written.every(([d, s, e]) => d === dim && (end <= s || start >= e));
    if (fresh) {
      kernelFor('assign', 'backward', [grad])(region, grad.view('backward'));
      this.written!.push([dim, start, end]);
      return;
    }
    const sum = kernelFor('add', 'backward', [grad])(region, grad.view('backward'));
    kernelFor('assign', 'backward', [grad])(region, { storage: sum, shape: grad.shape, strides: contiguousStrides(grad.shape), offset: 0 });
    const tmp = wrap(sum, grad.shape);
    tmp.dispose();
  }

  /** The summed gradient, or null when nothing was pushed. */
  result(): Tensor | null {
    return this.buffer ?? this.dense;
  }

  // The full-size buffer slices write into: zeros, or a copy of the dense sum so far.
  private ownBuffer(like: Tensor): Tensor {
    if (this.buffer !== null) return this.buffer;
    const n = sizeOf(this.shape);
    if (this.dense === null) {
      this.buffer = wrap(kernelFor('fill', 'backward', [like])(n, 'f32', 0), this.shape);
    } else {
      const d = this.dense;
      const view = d.view('backward');
      this.buffer = wrap(d.dtype === 'f32' ? kernelFor('copy', 'backward', [d])(view) : kernelFor('cast', 'backward', [d])(view, 'f32'), this.shape);
      this.written = null;
      this.dense = null;
    }
    return this.buffer;
  }
}

function checkShape(got: readonly number[], want: readonly number[], op: string): void {
  if (got.length === want.length && got.every((d, i) => d === want[i])) return;
  throw new TensorError('TENSOR_SHAPE_MISMATCH', `internal: backward of '${op}' gave a gradient ${fmtShape(got)} for ${fmtShape(want)}`, {
    hint: 'this is a bug in the op\'s backward; please report it with the op and shapes',
  });
}
