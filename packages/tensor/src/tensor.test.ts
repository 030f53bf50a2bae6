// Engine tests: views share storage, autograd accumulation, noGrad/detach, scopes and disposal, typed errors, RNG, dtypes.
import { describe, expect, it } from 'vitest';
import {
  concat, max, mean, softmax, sum,
  Rng, TensorError, add, arange, backendInfo, bf16ToF32, createRng, crossEntropy, dropout, embedding, f16ToF32, f32ToBf16, f32ToF16, getKernel,
  keep, matmul, noGrad, ones, randn, scope, setBackend, split, tensor, zeros, type Tensor,
} from './index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TensorError);
    return (error as TensorError).code;
  }
  return undefined;
}

describe('views', () => {
  it('reshape, transpose, slice and broadcast share storage', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const t = x.transpose(0, 1);
    expect(t.ref).toBe(x.ref);
    expect(t.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    const s = x.slice(1, 1, 3);
    expect(s.ref).toBe(x.ref);
    expect(s.toArray()).toEqual([[2, 3], [5, 6]]);
    expect(x.reshape([3, -1]).ref).toBe(x.ref);
    const b = tensor([1, 2]).reshape([2, 1]).broadcastTo([2, 3]);
    expect(b.strides).toEqual([1, 0]);
    expect(b.toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(t.reshape([6]).toArray()).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('split and concat round-trip with gradients to each piece', () => {
    const x = tensor([[1, 2, 3, 4, 5]], undefined, { requiresGrad: true });
    const [a, b] = split(x, [2, 3], 1);
    expect(b.toArray()).toEqual([[3, 4, 5]]);
    a.mul(2).sum().add(b.mul(3).sum()).backward();
    expect(x.grad!.toArray()).toEqual([[2, 2, 3, 3, 3]]);
  });
});

describe('autograd', () => {
  it('accumulates over calls and through reused inputs; zeroGrad clears', () => {
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    w.mul(w).sum().backward(); // d/dw Σw² = 2w
    expect(Array.from(w.grad!.data())).toEqual([2, 4, 6]);
    w.sum().backward();
    expect(Array.from(w.grad!.data())).toEqual([3, 5, 7]);
    w.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('matmul gradients match the closed form dA = G·Bᵀ, dB = Aᵀ·G with transposed and broadcast operands', () => {
    const rng = createRng(3);
    const a = randn([2, 3, 4], { rng, requiresGrad: true });
    const b = randn([5, 4], { rng, requiresGrad: true });
    matmul(a, b, { transB: true }).sum().backward();
    const ones35 = ones([2, 3, 5]);
    const da = noGrad(() => matmul(ones35, b));
    const db = noGrad(() => matmul(ones35, a, { transA: true }).sum(0));
    expect(Array.from(a.grad!.data())).toEqual(Array.from(da.data()).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(b.grad!.data())).toEqual(Array.from(db.data()).map((v) => expect.closeTo(v, 5)));
  });

  it('noGrad records nothing and detach cuts the graph', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => w.mul(3));
    expect(y.requiresGrad).toBe(false);
    const z = w.mul(2).detach();
    expect(z.requiresGrad).toBe(false);
    expect(codeOf(() => z.sum().backward())).toBe('TENSOR_NO_GRAD');
  });

  it('bf16 parameters get f32 gradients through the upcast', () => {
    const w = tensor([1.5, -2], [2], { dtype: 'bf16', requiresGrad: true });
    w.mul(tensor([3, 4])).sum().backward();
    expect(w.grad!.dtype).toBe('f32');
    expect(Array.from(w.grad!.data())).toEqual([3, 4]);
  });

  it('crossEntropy mean ignores ignoreIndex rows in the value and the gradient', () => {
    const logits = tensor([[1, 2, 3], [1, 1, 1]], undefined, { requiresGrad: true });
    const loss = crossEntropy(logits, tensor([2, -100], [2], { dtype: 'i32' }));
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(loss.item()).toBeCloseTo(lse - 3, 6);
    loss.backward();
    expect(Array.from(logits.grad!.data()).slice(3)).toEqual([0, 0, 0]);
  });
});

describe('memory scopes', () => {
  it('disposes intermediates, keeps returned and kept tensors and leaf grads', () => {
    const w = keep(tensor([1, 2, 3], [3], { requiresGrad: true }));
    let inner: Tensor | null = null;
    const out = scope(() => {
      inner = w.mul(2);
      const loss = inner.sum();
      loss.backward();
      return { loss };
    });
    expect(inner!.isDisposed).toBe(true);
    expect(out.loss.isDisposed).toBe(false);
    expect(out.loss.item()).toBe(12);
    expect(Array.from(w.grad!.data())).toEqual([2, 2, 2]);
    expect(codeOf(() => inner!.add(1))).toBe('TENSOR_DISPOSED');
  });

  it('rejects an async fn', () => {
    const t = tensor([1]);
    expect(codeOf(() => scope(async () => t.add(1)))).toBe('TENSOR_BAD_ARGUMENT');
  });

  it('a view keeps storage alive after its base is disposed', () => {
    const x = tensor([1, 2, 3, 4]);
    const v = x.reshape([2, 2]);
    x.dispose();
    expect(codeOf(() => x.data())).toBe('TENSOR_DISPOSED');
    expect(v.toArray()).toEqual([[1, 2], [3, 4]]);
  });
});

describe('typed errors', () => {
  it('name the op, shapes and argument', () => {
    expect(codeOf(() => matmul(zeros([2, 3]), zeros([4, 5])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/matmul: a \(2, 3\) and b \(4, 5\)/);
    expect(codeOf(() => add(zeros([2, 3]), zeros([4])))).toBe('TENSOR_SHAPE_MISMATCH');
    expect(codeOf(() => add(arange(3), zeros([3])))).toBe('TENSOR_DTYPE_MISMATCH');
    expect(codeOf(() => embedding(zeros([4, 2]), tensor([1, 4], [2], { dtype: 'i32' })))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(() => embedding(zeros([4, 2]), tensor([1, 4], [2], { dtype: 'i32' }))).toThrow(/ids\[1\] = 4 is outside \[0, 4\)/);
    expect(codeOf(() => crossEntropy(zeros([2, 3]), tensor([0, 3], [2], { dtype: 'i32' })))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(codeOf(() => zeros([2, 3]).transpose(0, 2))).toBe('TENSOR_INDEX_OUT_OF_RANGE');
    expect(codeOf(() => getKernel('matmul', 'nonexistent'))).toBe('TENSOR_MISSING_KERNEL');
    expect(() => getKernel('matmul', 'nonexistent')).toThrow(/backend 'nonexistent' has no kernel 'matmul'/);
    expect(codeOf(() => setBackend('nope'))).toBe('TENSOR_UNKNOWN_BACKEND');
    expect(codeOf(() => tensor([[1, 2], [3]]))).toBe('TENSOR_SHAPE_MISMATCH');
  });
});

describe('rng, dropout and dtypes', () => {
  it('rng state round-trips and dropout is reproducible and scaled', () => {
    const rng = createRng(7);
    rng.random();
    const saved = rng.state();
    const a = [rng.random(), rng.normal()];
    const back = Rng.fromState(JSON.parse(JSON.stringify(saved)));
    expect([back.random(), back.normal()]).toEqual(a);
    const x = ones([1000]);
    const d1 = dropout(x, 0.25, createRng(1)).data();
    const d2 = dropout(x, 0.25, createRng(1)).data();
    expect(d1).toEqual(d2);
    const kept = Array.from(d1).filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    expect(kept.length).toBeGreaterThan(700);
    expect(kept.length).toBeLessThan(800);
    expect(dropout(x, 0.5, createRng(1), false)).toBe(x);
  });

  it('raw converters match the reference vectors', () => {
    const bf = bf16ToF32(f32ToBf16(Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, Math.PI, -0.1, 65504, 3.4e38, NaN])));
    expect(Array.from(bf)).toEqual([1, 1.015625, 3.140625, -0.10009765625, 65536, Infinity, NaN]);
    const h = f16ToF32(f32ToF16(Float32Array.from([65519, 65520, 2 ** -25, -Infinity])));
    expect(Array.from(h)).toEqual([65504, Infinity, 0, -Infinity]);
  });

  it('reports the backend in use', () => {
    expect(backendInfo().name).toBe('cpu');
    expect(backendInfo().mode).toMatch(/^(js|wasm-simd(-relaxed)?)$/);
  });
});

describe('edge shapes', () => {
  it('handles empty dims, 0-d tensors and bf16 inputs', () => {
    expect(Array.from(matmul(zeros([3, 0]), zeros([0, 2])).data())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(zeros([0, 4]), zeros([4, 2])).shape).toEqual([0, 2]);
    expect(sum(zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0]);
    expect(sum(zeros([0])).item()).toBe(0);
    expect(softmax(zeros([0, 3])).shape).toEqual([0, 3]);
    expect(concat([zeros([0, 2]), ones([1, 2])], 0).toArray()).toEqual([[1, 1]]);
    expect(Array.from(tensor([1.5, 2.5], [2], { dtype: 'bf16' }).add(1).data())).toEqual([2.5, 3.5]);
    expect(tensor(3).item()).toBe(3);
    expect(mean(tensor([[1, 2], [3, 4]]), [0, 1]).item()).toBe(2.5);
    expect(max(tensor([[1, 5], [3, 4]]), 1, true).toArray()).toEqual([[5], [4]]);
  });
});
