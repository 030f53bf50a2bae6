// Scopes and autograd together: a graph returned from a scope stays backpropagatable, and a freed graph is a typed error.
import { describe, expect, it } from 'vitest';
import { TensorError, keep, layerNorm, matmul, randn, createRng, scope, softmax, tensor, type Tensor } from './index.js';

// Matches a TensorError with the given code.
const tensorError = (code: string): unknown => expect.objectContaining({ name: 'TensorError', code });

// A small net whose backward closures read saved tensors (layernorm statistics, softmax output).
function params(): { w: Tensor; g: Tensor; b: Tensor; x: Tensor } {
  const rng = createRng(7);
  return {
    w: keep(randn([5, 4], { rng, requiresGrad: true })),
    g: keep(randn([4], { rng, requiresGrad: true })),
    b: keep(randn([4], { rng, requiresGrad: true })),
    x: keep(randn([3, 5], { rng })),
  };
}

function forward(p: ReturnType<typeof params>): Tensor {
  return softmax(layerNorm(matmul(p.x, p.w), p.g, p.b)).square().mean();
}

function grads(p: ReturnType<typeof params>): number[][] {
  return [p.w, p.g, p.b].map((t) => Array.from(t.grad!.data()));
}

describe('backward after the scope that built the graph', () => {
  it('gives the same gradients as backward inside the scope (they were null before)', () => {
    const inside = params();
    scope(() => forward(inside).backward());
    const expected = grads(inside);

    const after = params();
    const loss = scope(() => forward(after));
    loss.backward();
    for (const t of [after.w, after.g, after.b]) expect(t.grad).not.toBeNull();
    const got = grads(after);
    got.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 6)));
  });

  it('keeps the scope intermediates alive until backward has run, then frees them', () => {
    const p = params();
    let hidden: Tensor | null = null;
    const loss = scope(() => {
      hidden = matmul(p.x, p.w);
      return hidden.relu().sum();
    });
    expect(hidden!.isDisposed).toBe(false);
    loss.backward();
    expect(hidden!.isDisposed).toBe(true);
    expect(loss.isDisposed).toBe(false);
    expect(() => loss.backward()).toThrow(tensorError('TENSOR_GRAPH_FREED'));
  });

  it('frees the intermediates when the loss is disposed without backward', () => {
    const p = params();
    let hidden: Tensor | null = null;
    const loss = scope(() => {
      hidden = matmul(p.x, p.w);
      return hidden.sum();
    });
    loss.dispose();
    expect(hidden!.isDisposed).toBe(true);
  });

  it('nests: an inner scope output used by an outer scope stays alive for the outer loss', () => {
    const p = params();
    let innerTemp: Tensor | null = null;
    const loss = scope(() => {
      const h = scope(() => {
        innerTemp = matmul(p.x, p.w).mul(2);
        return innerTemp.tanh();
      });
      return h.square().mean();
    });
    expect(innerTemp!.isDisposed).toBe(false);
    loss.backward();
    expect(p.w.grad).not.toBeNull();
    expect(innerTemp!.isDisposed).toBe(true);
  });

  it('two returned tensors share the hold: disposing one keeps the other backpropagatable', () => {
    const p = params();
    const { a, b } = scope(() => {
      const h = matmul(p.x, p.w).sigmoid();
      return { a: h.sum(), b: h.square().sum() };
    });
    a.dispose();
    b.backward();
    expect(p.w.grad).not.toBeNull();
  });

  it('backward inside the scope still frees everything when the scope ends', () => {
    const p = params();
    let hidden: Tensor | null = null;
    const loss = scope(() => {
      hidden = matmul(p.x, p.w);
      const l = hidden.sum();
      l.backward();
      return l;
    });
    expect(hidden!.isDisposed).toBe(true);
    expect(loss.item()).toBeCloseTo(matmul(p.x, p.w).sum().item(), 5);
  });
});

describe('a graph whose tensors were freed', () => {
  it('throws TENSOR_GRAPH_FREED naming the op instead of leaving grads null', () => {
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const h = w.mul(2);
    const loss = h.exp().sum();
    h.dispose();
    let error: unknown;
    try {
      loss.backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TensorError);
    expect((error as TensorError).code).toBe('TENSOR_GRAPH_FREED');
    expect((error as TensorError).message).toContain("'exp'");
    expect((error as TensorError).message).toContain('(3)');
    expect((error as TensorError).hint).toMatch(/inside the scope/);
    expect(w.grad).toBeNull();
  });

  it('names the op whose saved (non-grad) operand was disposed', () => {
    const w = tensor([[1, 2], [3, 4]], [2, 2], { requiresGrad: true });
    const x = tensor([[1, 0], [0, 1]], [2, 2]);
    const loss = matmul(x, w).sum();
    x.dispose(); // dW = xᵀ·G needs x
    expect(() => loss.backward()).toThrow(tensorError('TENSOR_GRAPH_FREED'));
    expect(() => loss.backward()).toThrow(/backward of 'matmul'/);
  });
});
