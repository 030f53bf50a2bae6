// split/slice gradients: correct against finite differences, and summed into one buffer instead of zero-padded copies per piece.
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES, concat, createRng, getKernel, randn, registerKernel, slice, split, type KernelName, type Storage, type Tensor } from '../index.js';

// Counts the elements every cpu kernel allocates while `fn` runs (kernels return their output storage).
function countAllocations(fn: () => void): number[] {
  const sizes: number[] = [];
  const originals = KERNEL_NAMES.map((name) => [name, getKernel(name, 'cpu')] as const);
  for (const [name, run] of originals) {
    const counted = (...args: unknown[]): unknown => {
      const out = (run as (...a: unknown[]) => unknown)(...args);
      if (out !== null && typeof out === 'object' && typeof (out as Storage).size === 'number') sizes.push((out as Storage).size);
      return out;
    };
    registerKernel({ name: name as KernelName, backend: 'cpu', run: counted as never });
  }
  try {
    fn();
  } finally {
    for (const [name, run] of originals) registerKernel({ name, backend: 'cpu', run } as never);
  }
  return sizes;
}

// Σ_i c_i · Σ piece_i², with distinct weights so every piece's gradient is distinguishable.
function loss(pieces: Tensor[]): Tensor {
  return pieces.map((p, i) => p.square().sum().mul(i + 1)).reduce((a, b) => a.add(b));
}

describe('split backward', () => {
  it('sums the pieces and an overlapping slice into the right regions (closed form; finite differences in the conformance suite)', () => {
    const x = randn([3, 11, 2], { rng: createRng(3), requiresGrad: true });
    loss([...split(x, 4, 1), slice(x, 1, 2, 7)]).backward(); // pieces 4, 4, 3 weighted 1, 2, 3; the slice (weight 4) overlaps two
    const xs = x.data();
    const grad = x.grad!.data();
    for (let i = 0; i < x.size; i++) {
      const j = Math.floor(i / 2) % 11; // index along dim 1
      const weight = Math.floor(j / 4) + 1 + (j >= 2 && j < 7 ? 4 : 0);
      expect(grad[i]).toBeCloseTo(2 * xs[i]! * weight, 4);
    }
  });

  it('allocates one input-sized buffer for all pieces, not a zero-padded copy per piece', () => {
    const n = 8;
    const x = randn([4, 16 * n], { rng: createRng(1), requiresGrad: true });
    const full = x.size;
    const pieces = split(x, 16, 1);
    const l = loss(pieces);
    const sizes = countAllocations(() => l.backward());
    // NOTE: before, each of the 8 pieces allocated a zero-padded (4, 128) gradient and 7 full-size adds summed them.
    expect(sizes.filter((s) => s >= full)).toEqual([full]);
    const grad = x.grad!.data();
    const xs = x.data();
    for (let i = 0; i < full; i++) expect(grad[i]).toBeCloseTo(2 * xs[i]! * (Math.floor((i % (16 * n)) / 16) + 1), 4);
  });

  it('concat of split pieces is the identity, gradient included', () => {
    const x = randn([2, 9], { rng: createRng(2), requiresGrad: true });
    const y = concat(split(x, [2, 3, 4], 1).reverse(), 1);
    const back = concat([slice(y, 1, 7, 9), slice(y, 1, 4, 7), slice(y, 1, 0, 4)], 1);
    expect(Array.from(back.data())).toEqual(Array.from(x.data()));
    back.square().sum().backward();
    const xs = x.data();
    Array.from(x.grad!.data()).forEach((g, i) => expect(g).toBeCloseTo(2 * xs[i]!, 5));
  });
});
