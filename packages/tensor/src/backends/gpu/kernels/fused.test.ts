// The gpu backend's fused kernels (softmax, norms, cross-entropy, attention, RoPE, embedding) against the cpu backend's kernels.
import { describe, expect, it } from 'vitest';
import { findBackend, getKernel, type Storage, type View } from '../../../index.js';
import type { KernelName } from '../../../kernels/names.js';
import { registerGpuBackend } from '../backend.js';
import { down, expectClose, gpuTestEnv, randomValues } from '../test-support.js';
import { contiguousStrides } from '../source.js';
import { textureStats } from '../runtime.js';

const env = await gpuTestEnv();
if (env.rt !== null) registerGpuBackend();

/** The same host data as a cpu view and a gpu view. */
function both(data: Float32Array | Int32Array, shape: readonly number[]): { cpu: View; gpu: View } {
  const mk = (name: string): View => {
    const be = findBackend(name);
    const s = be.allocate(data.length, data instanceof Int32Array ? 'i32' : 'f32');
    be.write(s, data);
    return { storage: s, shape, strides: contiguousStrides(shape), offset: 0 };
  };
  return { cpu: mk('cpu'), gpu: mk('gpu') };
}

/** Runs kernel `name` on both backends with `args(side)` and compares every output. */
function compare(name: KernelName, args: (side: 'cpu' | 'gpu') => unknown[], atol: number, rtol: number): void {
  const run = (side: 'cpu' | 'gpu'): Storage[] => {
    const out = (getKernel(name, side) as (...a: unknown[]) => Storage | Storage[])(...args(side));
    return Array.isArray(out) ? out : [out];
  };
  const want = run('cpu');
  const got = run('gpu');
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.backend).toBe('gpu');
    expectClose(down(env.rt!, g), Array.from(findBackend('cpu').read(want[i]!)), atol, rtol, `${name} output ${i}`);
  });
}

describe.skipIf(env.rt === null)(`gpu fused kernels vs the cpu backend${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  const x = both(randomValues(7 * 33, 1, -4, 4), [7, 33]);
  const y = both(randomValues(7 * 33, 2), [7, 33]);
  const dy = both(randomValues(7 * 33, 3), [7, 33]);
  const w = both(randomValues(33, 4, 0.5, 1.5), [33]);
  const b = both(randomValues(33, 5), [33]);

  it('softmax, log_softmax and their backward', () => {
    compare('softmax', (s) => [x[s]], 1e-6, 1e-5);
    compare('log_softmax', (s) => [x[s]], 1e-5, 1e-5);
    const soft = both(Float32Array.from(down(env.rt!, getKernel('softmax', 'gpu')(x.gpu))), [7, 33]);
    compare('softmax_grad', (s) => [soft[s], dy[s]], 1e-6, 1e-5);
    compare('log_softmax_grad', (s) => [y[s], dy[s]], 1e-5, 1e-5);
  });

  it('layernorm and rmsnorm, forward and backward', () => {
    compare('layernorm', (s) => [x[s], w[s], b[s], 1e-5], 1e-5, 1e-5);
    compare('layernorm', (s) => [x[s], w[s], null, 1e-5], 1e-5, 1e-5);
    const [, mean, rstd] = getKernel('layernorm', 'cpu')(x.cpu, w.cpu, b.cpu, 1e-5);
    const m = both(findBackend('cpu').read(mean) as Float32Array, [7]);
    const r = both(findBackend('cpu').read(rstd) as Float32Array, [7]);
    compare('layernorm_grad', (s) => [x[s], w[s], m[s], r[s], dy[s]], 1e-5, 1e-4);
    compare('rmsnorm', (s) => [x[s], w[s], 1e-6], 1e-5, 1e-5);
    const [, rr] = getKernel('rmsnorm', 'cpu')(x.cpu, w.cpu, 1e-6);
    const rs = both(findBackend('cpu').read(rr) as Float32Array, [7]);
    compare('rmsnorm_grad', (s) => [x[s], w[s], rs[s], dy[s]], 1e-5, 1e-4);
  });

  it('cross_entropy and its gradient over a 1024-wide vocabulary, with ignored rows', () => {
    const n = 16;
    const v = 1024;
    const logits = both(randomValues(n * v, 6, -8, 8), [n, v]);
    const t = Int32Array.from({ length: n }, (_, i) => (i === 3 ? -100 : (i * 131) % v));
    const targets = both(t, [n]);
    compare('cross_entropy', (s) => [logits[s], targets[s], -100], 1e-4, 1e-5);
    const [, lse] = getKernel('cross_entropy', 'cpu')(logits.cpu, targets.cpu, -100);
    const l = both(findBackend('cpu').read(lse) as Float32Array, [n]);
    const dl = both(randomValues(n, 7, 0.5, 1), [n]);
    compare('cross_entropy_grad', (s) => [logits[s], targets[s], l[s], dl[s], -100], 1e-6, 1e-4);
  });

  it('cross_entropy over a GPT-2-sized vocabulary (50257) stays under llvmpipe’s loop cap', () => {
    const n = 2;
    const v = 50257;
    const logits = both(randomValues(n * v, 8, -3, 3), [n, v]);
    const targets = both(Int32Array.from([5, 50256]), [n]);
    compare('cross_entropy', (s) => [logits[s], targets[s], -100], 1e-4, 1e-5);
  });

  for (const [label, opts, hkv] of [
    ['causal MHA', { causal: true, scale: 1 / Math.sqrt(8), positionOffset: 0, alibiSlopes: null }, 4],
    ['bidirectional GQA (H=4, Hkv=2)', { causal: false, scale: 0.3, positionOffset: 0, alibiSlopes: null }, 2],
    ['causal MQA with ALiBi and a KV-cache offset', { causal: true, scale: 0.35, positionOffset: 2, alibiSlopes: Float32Array.from([0.5, 0.25, 0.125, 0.0625]) }, 1],
  ] as const) {
    it(`attention forward and backward: ${label}`, () => {
      const [bsz, h, t, d] = [2, 4, 5, 8];
      const s = t + opts.positionOffset;
      const q = both(randomValues(bsz * h * t * d, 9), [bsz, h, t, d]);
      const k = both(randomValues(bsz * hkv * s * d, 10), [bsz, hkv, s, d]);
      const v = both(randomValues(bsz * hkv * s * d, 11), [bsz, hkv, s, d]);
      compare('attention', (side) => [q[side], k[side], v[side], opts], 1e-5, 1e-4);
      const [o, lse] = getKernel('attention', 'cpu')(q.cpu, k.cpu, v.cpu, opts);
      const ob = both(findBackend('cpu').read(o) as Float32Array, [bsz, h, t, d]);
      const lb = both(findBackend('cpu').read(lse) as Float32Array, [bsz, h, t]);
      const dout = both(randomValues(bsz * h * t * d, 12), [bsz, h, t, d]);
      compare('attention_grad', (side) => [q[side], k[side], v[side], ob[side], lb[side], dout[side], opts], 1e-5, 1e-4);
    });
  }

  it('rope forward and inverse, with a position offset', () => {
    const xr = both(randomValues(2 * 3 * 7 * 8, 13), [2, 3, 7, 8]);
    compare('rope', (s) => [xr[s], 0, 10000, false], 1e-6, 1e-5);
    compare('rope', (s) => [xr[s], 500, 10000, true], 1e-6, 1e-5);
  });

  it('embedding gather and scatter-add backward with repeated ids', () => {
    const table = both(randomValues(11 * 6, 14), [11, 6]);
    const ids = both(Int32Array.from([3, 0, 10, 3, 3, 7]), [2, 3]);
    compare('embedding', (s) => [table[s], ids[s]], 0, 0);
    const g = both(randomValues(6 * 6, 15), [2, 3, 6]);
    compare('embedding_grad', (s) => [ids[s], g[s], 11], 1e-6, 1e-6);
    expect(() => getKernel('embedding_grad', 'gpu')(both(Int32Array.from([11]), [1]).gpu, both(randomValues(6, 1), [1, 6]).gpu, 11))
      .toThrow(/outside \[0, 11\)/);
  });

  it('frees intermediates: live textures stay flat across repeated attention calls', () => {
    const q = both(randomValues(1 * 2 * 4 * 4, 16), [1, 2, 4, 4]);
    const opts = { causal: true, scale: 0.5, positionOffset: 0, alibiSlopes: null };
    const live = (): number => textureStats.live;
    const run = (): void => {
      const outs = getKernel('attention', 'gpu')(q.gpu, q.gpu, q.gpu, opts);
      for (const o of outs) findBackend('gpu').free(o);
    };
    run();
    const before = live();
    for (let i = 0; i < 5; i++) run();
    expect(live()).toBe(before);
    const extra = getKernel('attention', 'gpu')(q.gpu, q.gpu, q.gpu, opts);
    expect(live()).toBe(before + 2);
    for (const o of extra) findBackend('gpu').free(o);
  });
});
