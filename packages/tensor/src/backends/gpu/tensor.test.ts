// Tensors on the gpu backend end to end: a small transformer-style step matches the cpu backend, scopes free textures.
import { describe, expect, it } from 'vitest';
import {
  add, attention, createRng, crossEntropy, embedding, fromArray, gelu, layerNorm, matmul, randn, rope, scope, sum, type Tensor,
} from '../../index.js';
import { registerGpuBackend } from './backend.js';
import { textureStats } from './runtime.js';
import { expectClose, gpuTestEnv } from './test-support.js';

const env = await gpuTestEnv();
if (env.rt !== null) registerGpuBackend();

/** Same parameters on a backend: embedding (V, C), a linear (C, C), layernorm (C). */
function params(backend: string): Record<string, Tensor> {
  const rng = createRng(7);
  const mk = (shape: number[], std = 0.5): Tensor => {
    const host = randn(shape, { rng, std, backend: 'cpu' });
    return fromArray(host.data() as Float32Array, shape, { backend, requiresGrad: true });
  };
  return { wte: mk([13, 8]), w: mk([8, 8]), lnw: mk([8], 0.1), lnb: mk([8], 0.1), out: mk([8, 13]) };
}

/** Embedding → layernorm → attention with RoPE → GELU MLP → cross-entropy: returns the loss. */
function step(p: Record<string, Tensor>, backend: string): Tensor {
  const ids = fromArray(Int32Array.from([1, 4, 4, 9, 12, 0]), [1, 6], { backend });
  const targets = fromArray(Int32Array.from([4, 4, 9, 12, 0, -100]), [6], { backend });
  const x = embedding(p.wte!, ids); // (1, 6, 8)
  const h = layerNorm(x, p.lnw!, p.lnb!);
  const q = rope(h.reshape([1, 2, 6, 4]), {});
  const a = attention(q, q, h.reshape([1, 2, 6, 4]), { causal: true }).reshape([1, 6, 8]);
  const m = gelu(matmul(add(a, x), p.w!));
  const logits = matmul(m, p.out!).reshape([6, 13]);
  return crossEntropy(logits, targets);
}

describe.skipIf(env.rt === null)(`tensors on the gpu backend${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  it('a forward/backward step gives the cpu backend’s loss and gradients', () => {
    const pc = params('cpu');
    const pg = params('gpu');
    const lc = step(pc, 'cpu');
    const lg = step(pg, 'gpu');
    expect(lg.backend).toBe('gpu');
    expectClose([lg.item()], [lc.item()], 1e-5, 1e-5, 'loss');
    lc.backward();
    lg.backward();
    for (const name of Object.keys(pc)) {
      expectClose(Array.from(pg[name]!.grad!.data()), Array.from(pc[name]!.grad!.data()), 1e-5, 1e-4, `grad ${name}`);
    }
  });

  it('scope() deletes every texture made inside it except the returned tensor', () => {
    const a = fromArray(new Float32Array(64).fill(0.5), [8, 8], { backend: 'gpu' });
    const before = textureStats.live;
    const out = scope(() => sum(gelu(matmul(add(a, a), a))));
    expect(textureStats.live).toBe(before + 1);
    const ac = fromArray(new Float32Array(64).fill(0.5), [8, 8], { backend: 'cpu' });
    expectClose([out.item()], [sum(gelu(matmul(add(ac, ac), ac))).item()], 1e-5, 1e-6, 'scoped result');
    out.dispose();
    expect(textureStats.live).toBe(before);
    expect(() => out.data()).toThrow(/disposed/);
  });
});
