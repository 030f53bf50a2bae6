// Conformance cases for matmul and the fused kernels: softmax, norms, cross-entropy, attention, RoPE, embedding.
import { attention, rope } from '../ops/attention.js';
import { embedding } from '../ops/embedding.js';
import { crossEntropy } from '../ops/loss.js';
import { matmul } from '../ops/matmul.js';
import { layerNorm, logSoftmax, rmsNorm, softmax } from '../ops/nn.js';
import { slice } from '../ops/views.js';
import { scope } from '../scope.js';
import type { ConformanceCaseDef } from './conformance.js';
import { checkOp } from './harness.js';
import {
  attentionRef, crossEntropyRef, embeddingRef, layerNormRef, logSoftmaxRef, matmulRef, permuteRef, rmsNormRef, ropeRef, softmaxRef, transposeLast, type Ref,
} from './reference.js';

const GRAD = { atol: 2e-4, rtol: 2e-3 };
const SMOOTH = { atol: 2e-6, rtol: 1e-5 };

interface MatmulConfig {
  a: number[];
  b: number[];
  transA?: boolean;
  transB?: boolean;
  grad?: boolean;
}

const matmulConfigs: MatmulConfig[] = [
  { a: [1, 1], b: [1, 1] },
  { a: [7, 13], b: [13, 5] },
  { a: [13, 7], b: [13, 5], transA: true },
  { a: [7, 13], b: [5, 13], transB: true },
  { a: [13, 7], b: [5, 13], transA: true, transB: true },
  { a: [17, 31], b: [31, 1] },
  { a: [1, 31], b: [31, 19] },
  { a: [2, 1, 3, 4], b: [1, 5, 4, 6] },
  { a: [3, 4, 2], b: [6, 4], transA: true, transB: true },
  { a: [13], b: [13, 4] },
  { a: [4, 13], b: [13] },
  { a: [33, 65], b: [65, 17], grad: false },
  { a: [67, 96], b: [80, 96], transB: true, grad: false },
  { a: [130, 70], b: [130, 129], transA: true, grad: false },
  { a: [3, 40, 72], b: [3, 72, 24], grad: false },
];

function matmulReference(cfg: MatmulConfig, [a, b]: Ref[]): Ref {
  let x = a.shape.length === 1 ? { shape: [1, a.shape[0]], data: a.data } : a;
  let y = b.shape.length === 1 ? { shape: [b.shape[0], 1], data: b.data } : b;
  if (cfg.transA) x = transposeLast(x);
  if (cfg.transB) y = transposeLast(y);
  const r = matmulRef(x, y);
  if (a.shape.length === 1) return { shape: [...r.shape.slice(0, -2), r.shape[r.shape.length - 1]], data: r.data };
  if (b.shape.length === 1) return { shape: r.shape.slice(0, -1), data: r.data };
  return r;
}

const matmulCase: ConformanceCaseDef = {
  name: `matmul: ${matmulConfigs.length} shapes — 1×1, primes, transposed operands, broadcast batches, vectors, non-multiples of block sizes`,
  kernels: ['matmul'],
  run(ctx) {
    for (const cfg of matmulConfigs) {
      const k = cfg.transB ? cfg.b[cfg.b.length - 1] : cfg.b.length === 1 ? cfg.b[0] : cfg.b[cfg.b.length - 2];
      const tol = { atol: 2e-6 * Math.sqrt(k) * 4, rtol: 1e-5 };
      checkOp(ctx, `matmul ${JSON.stringify(cfg)}`, [{ shape: cfg.a }, { shape: cfg.b }], ([a, b]) => matmul(a, b, { transA: cfg.transA, transB: cfg.transB }), (xs) => matmulReference(cfg, xs), {
        forward: tol,
        grad: cfg.grad === false ? undefined : GRAD,
      });
    }
    scope(() => {
      const a = ctx.tensor([3, 2], Float32Array.from([NaN, 1, 2, 3, Infinity, 0]));
      const b = ctx.tensor([2, 2], Float32Array.from([1, 2, 3, 4]));
      ctx.check('matmul NaN/Inf', matmul(a, b).data(), [NaN, NaN, 11, 16, Infinity, Infinity], { atol: 0, rtol: 0 });
    });
  },
};

const softmaxCases: ConformanceCaseDef[] = [
  {
    name: 'softmax, logSoftmax: last dim (3, 7), middle dim (4, 5, 6), a row of 1, large logits, −Inf and NaN entries',
    kernels: ['softmax', 'softmax_grad', 'log_softmax', 'log_softmax_grad'],
    run(ctx) {
      for (const [name, op, f] of [['softmax', softmax, softmaxRef], ['logSoftmax', logSoftmax, logSoftmaxRef]] as const) {
        checkOp(ctx, `${name} (3, 7)`, [{ shape: [3, 7] }], ([x]) => op(x), ([x]) => f(x), { forward: SMOOTH, grad: GRAD });
        checkOp(ctx, `${name} (4, 5, 6) dim 1`, [{ shape: [4, 5, 6] }], ([x]) => op(x, 1), ([x]) => permuteRef(f(permuteRef(x, [0, 2, 1])), [0, 2, 1]), { forward: SMOOTH, grad: GRAD });
        checkOp(ctx, `${name} (5, 1)`, [{ shape: [5, 1] }], ([x]) => op(x), ([x]) => f(x), { forward: SMOOTH, grad: GRAD });
        checkOp(ctx, `${name} large`, [{ shape: [2, 9], range: [80, 120] }], ([x]) => op(x), ([x]) => f(x), { forward: { atol: 1e-5, rtol: 1e-5 } });
        const special = Float32Array.from([0, -Infinity, 1, -Infinity, NaN, 2]);
        checkOp(ctx, `${name} −Inf/NaN`, [{ shape: [2, 3], data: special }], ([x]) => op(x), ([x]) => f(x), { forward: SMOOTH });
      }
    },
  },
];

const normCases: ConformanceCaseDef[] = [
  {
    name: 'layernorm: (3, 5, 11) with bias, (4, 7) without, C = 1, and a mean offset of 50',
    kernels: ['layernorm', 'layernorm_grad'],
    run(ctx) {
      checkOp(ctx, 'layerNorm', [{ shape: [3, 5, 11] }, { shape: [11] }, { shape: [11] }], ([x, w, b]) => layerNorm(x, w, b, 1e-5), ([x, w, b]) => layerNormRef(x, w, b, 1e-5), {
        forward: { atol: 1e-5, rtol: 1e-5 },
        grad: GRAD,
      });
      checkOp(ctx, 'layerNorm no bias', [{ shape: [4, 7] }, { shape: [7] }], ([x, w]) => layerNorm(x, w, null), ([x, w]) => layerNormRef(x, w, null, 1e-5), { forward: { atol: 1e-5, rtol: 1e-5 }, grad: GRAD });
      checkOp(ctx, 'layerNorm C=1', [{ shape: [3, 1] }, { shape: [1] }, { shape: [1] }], ([x, w, b]) => layerNorm(x, w, b), ([x, w, b]) => layerNormRef(x, w, b, 1e-5), { forward: { atol: 1e-5, rtol: 1e-5 } });
      checkOp(ctx, 'layerNorm offset', [{ shape: [2, 33], range: [49, 51] }, { shape: [33] }, { shape: [33] }], ([x, w, b]) => layerNorm(x, w, b), ([x, w, b]) => layerNormRef(x, w, b, 1e-5), {
        forward: { atol: 1e-4, rtol: 1e-4 },
      });
    },
  },
  {
    name: 'rmsnorm: (6, 9) and (2, 3, 17)',
    kernels: ['rmsnorm', 'rmsnorm_grad'],
    run(ctx) {
      checkOp(ctx, 'rmsNorm', [{ shape: [6, 9] }, { shape: [9] }], ([x, w]) => rmsNorm(x, w, 1e-6), ([x, w]) => rmsNormRef(x, w, 1e-6), { forward: { atol: 1e-5, rtol: 1e-5 }, grad: GRAD });
      checkOp(ctx, 'rmsNorm 3-D', [{ shape: [2, 3, 17] }, { shape: [17] }], ([x, w]) => rmsNorm(x, w, 1e-5), ([x, w]) => rmsNormRef(x, w, 1e-5), { forward: { atol: 1e-5, rtol: 1e-5 }, grad: GRAD });
    },
  },
];

const ceCase: ConformanceCaseDef = {
  name: 'cross_entropy: (7, 11) with ignored rows, reductions mean/sum/none, a −Inf logit, large logits',
  kernels: ['cross_entropy', 'cross_entropy_grad'],
  run(ctx) {
    const targets = [3, -100, 0, 10, 5, -100, 7];
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const counted = targets.filter((t) => t !== -100).length;
      checkOp(ctx, `crossEntropy ${reduction}`, [{ shape: [7, 11], range: [-4, 4] }], ([x]) => crossEntropy(x, ctx.tensor([7], Int32Array.from(targets)), { reduction }), ([x]) => {
        const r = crossEntropyRef(x, targets, -100);
        if (reduction === 'none') return r;
        const s = r.data.reduce((p, v) => p + v, 0);
        return { shape: [], data: Float64Array.of(reduction === 'mean' ? s / counted : s) };
      }, { forward: { atol: 1e-5, rtol: 1e-5 }, grad: GRAD });
    }
    const special = Float32Array.from([0, -Infinity, 1, 100, 101, 99]);
    checkOp(ctx, 'crossEntropy special', [{ shape: [2, 3], data: special }], ([x]) => crossEntropy(x, ctx.tensor([2], Int32Array.from([2, 0])), { reduction: 'none' }), ([x]) => crossEntropyRef(x, [2, 0], -100), {
      forward: { atol: 1e-5, rtol: 1e-5 },
    });
  },
};

interface AttnConfig {
  b: number;
  h: number;
  hkv: number;
  t: number;
  s: number;
  d: number;
  causal: boolean;
  alibi?: boolean;
  grad?: boolean;
}

const attnConfigs: AttnConfig[] = [
  { b: 1, h: 2, hkv: 2, t: 5, s: 5, d: 4, causal: true },
  { b: 2, h: 4, hkv: 2, t: 7, s: 7, d: 3, causal: false },
  { b: 1, h: 3, hkv: 1, t: 3, s: 8, d: 5, causal: true },
  { b: 1, h: 2, hkv: 2, t: 6, s: 6, d: 4, causal: true, alibi: true },
  { b: 1, h: 1, hkv: 1, t: 1, s: 1, d: 2, causal: true },
  { b: 1, h: 1, hkv: 1, t: 37, s: 37, d: 4, causal: true },
  { b: 2, h: 2, hkv: 1, t: 70, s: 70, d: 16, causal: true, grad: false },
  { b: 1, h: 2, hkv: 2, t: 33, s: 65, d: 8, causal: false, grad: false },
  // Small T (the decode path): one row against many keys, GQA with ALiBi and a D that is no multiple of 4, T = 8.
  { b: 1, h: 4, hkv: 4, t: 1, s: 301, d: 64, causal: true, grad: false },
  { b: 2, h: 6, hkv: 2, t: 3, s: 37, d: 5, causal: true, alibi: true },
  { b: 1, h: 2, hkv: 1, t: 8, s: 19, d: 8, causal: false, alibi: true },
  { b: 2, h: 4, hkv: 1, t: 2, s: 2, d: 4, causal: true },
];

// Keys/values as the first `s` positions of a larger (B, Hkv, capacity, D) buffer, like a preallocated KV cache.
interface StridedConfig {
  b: number;
  h: number;
  hkv: number;
  t: number;
  s: number;
  capacity: number;
  d: number;
  alibi: boolean;
}

const stridedConfigs: StridedConfig[] = [
  { b: 1, h: 4, hkv: 4, t: 1, s: 77, capacity: 96, d: 16, alibi: false },
  { b: 2, h: 6, hkv: 3, t: 2, s: 40, capacity: 64, d: 8, alibi: true },
  { b: 3, h: 2, hkv: 1, t: 1, s: 9, capacity: 12, d: 6, alibi: false },
  { b: 2, h: 2, hkv: 2, t: 20, s: 150, capacity: 160, d: 4, alibi: false },
];

// The first `s` positions (dim 2) of a (B, Hkv, capacity, D) reference.
function keysRef(x: Ref, s: number): Ref {
  const [b, hkv, cap, d] = x.shape;
  const data = new Float64Array(b * hkv * s * d);
  for (let n = 0; n < b * hkv; n++) data.set(x.data.subarray(n * cap * d, n * cap * d + s * d), n * s * d);
  return { shape: [b, hkv, s, d], data };
}

const attentionCase: ConformanceCaseDef = {
  name: 'attention: causal/bidirectional, GQA and MQA, KV-cache offset (T < S), ALiBi, small T (decode path), strided K/V views, several key tiles',
  kernels: ['attention', 'attention_grad'],
  run(ctx) {
    for (const c of attnConfigs) {
      const slopes = c.alibi === true ? Array.from({ length: c.h }, (_, i) => 2 ** (-(i + 1))) : null;
      const scale = 1 / Math.sqrt(c.d);
      checkOp(ctx, `attention ${JSON.stringify(c)}`, [{ shape: [c.b, c.h, c.t, c.d] }, { shape: [c.b, c.hkv, c.s, c.d] }, { shape: [c.b, c.hkv, c.s, c.d] }],
        ([q, k, v]) => attention(q, k, v, { causal: c.causal, alibiSlopes: slopes }),
        ([q, k, v]) => attentionRef(q, k, v, c.causal, scale, c.causal ? c.s - c.t : 0, slopes),
        { forward: { atol: 1e-5, rtol: 1e-4 }, grad: c.grad === false ? undefined : GRAD });
    }
    for (const c of stridedConfigs) {
      const slopes = c.alibi ? Array.from({ length: c.h }, (_, i) => 2 ** (-(i + 1))) : null;
      const kvShape = [c.b, c.hkv, c.capacity, c.d];
      checkOp(ctx, `attention on strided K/V ${JSON.stringify(c)}`, [{ shape: [c.b, c.h, c.t, c.d] }, { shape: kvShape }, { shape: kvShape }],
        ([q, k, v]) => attention(q, slice(k, 2, 0, c.s), slice(v, 2, 0, c.s), { causal: true, alibiSlopes: slopes }),
        ([q, k, v]) => attentionRef(q, keysRef(k, c.s), keysRef(v, c.s), true, 1 / Math.sqrt(c.d), c.s - c.t, slopes),
        { forward: { atol: 1e-5, rtol: 1e-4 } });
    }
  },
};

const ropeCase: ConformanceCaseDef = {
  name: 'rope: (2, 3, 5, 8) from position 0 and (1, 2, 3, 6) from position 7 with θ = 500',
  kernels: ['rope'],
  run(ctx) {
    checkOp(ctx, 'rope', [{ shape: [2, 3, 5, 8] }], ([x]) => rope(x), ([x]) => ropeRef(x, 0, 10000), { forward: { atol: 2e-6, rtol: 1e-5 }, grad: GRAD });
    checkOp(ctx, 'rope offset', [{ shape: [1, 2, 3, 6] }], ([x]) => rope(x, { positionOffset: 7, theta: 500 }), ([x]) => ropeRef(x, 7, 500), { forward: { atol: 2e-6, rtol: 1e-5 }, grad: GRAD });
  },
};

const embeddingCase: ConformanceCaseDef = {
  name: 'embedding: (11, 6) gathered by (2, 5) ids with repeats; scatter-add backward',
  kernels: ['embedding', 'embedding_grad'],
  run(ctx) {
    const ids = [0, 3, 3, 10, 7, 3, 0, 1, 10, 5];
    checkOp(ctx, 'embedding', [{ shape: [11, 6] }], ([w]) => embedding(w, ctx.tensor([2, 5], Int32Array.from(ids))), ([w]) => embeddingRef(w, ids, [2, 5]), { forward: { atol: 0, rtol: 0 }, grad: GRAD });
  },
};

/** Cases for matmul and the fused kernels. */
export const nnCases: ConformanceCaseDef[] = [matmulCase, ...softmaxCases, ...normCases, ceCase, attentionCase, ropeCase, embeddingCase];
