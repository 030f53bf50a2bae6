// Tensor buffers in the wasm memory: placement, release on dispose, and the same numbers as the JS kernels at sizes that use them.
import { afterAll, describe, expect, it } from 'vitest';
import { attention, createRng, crossEntropy, fromArray, gelu, layerNorm, matmul, ones, randn, scope, useJsKernels, useWasmKernels, zeros, type Tensor } from '../../index.js';
import { isWasmF32 } from '../wasm/index.js';
import type { CpuStorage } from './storage.js';
import { newF32, newF32Uninit, releaseF32, wasmBufferBytes, WASM_BUFFER_MIN } from './wasm-storage.js';

const dataOf = (t: Tensor): Float32Array => (t as unknown as { ref: { storage: CpuStorage } }).ref.storage.data as Float32Array;

// A two-layer slice of the train-step model at sizes above WASM_BUFFER_MIN: loss and every gradient.
function step(): { loss: number; grads: Float32Array[] } {
  const rng = createRng(5);
  const [B, T, C, H, V] = [2, 24, 32, 2, 40];
  const p = (shape: number[]): Tensor => randn(shape, { rng, std: 0.2, requiresGrad: true });
  const x0 = randn([B, T, C], { rng });
  const w = { qkv: p([3 * C, C]), qkvb: p([3 * C]), fc: p([4 * C, C]), fcb: p([4 * C]), fc2: p([C, 4 * C]), head: p([V, C]) };
  const lnw = ones([C], { requiresGrad: true });
  const lnb = zeros([C], { requiresGrad: true });
  const targets = fromArray(Int32Array.from({ length: B * T }, () => rng.int(V)), [B * T]);
  const loss = scope(() => {
    const h = layerNorm(x0, lnw, lnb);
    const qkv = matmul(h, w.qkv, { transB: true }).add(w.qkvb);
    const [q, k, v] = qkv.reshape([B, T, 3, H, C / H]).permute([2, 0, 3, 1, 4]).split(1, 0).map((t) => t.squeeze(0));
    const y = attention(q, k, v, { causal: true }).permute([0, 2, 1, 3]).reshape([B, T, C]);
    const x = y.add(matmul(gelu(matmul(y, w.fc, { transB: true }).add(w.fcb)), w.fc2, { transB: true }));
    const l = crossEntropy(matmul(x, w.head, { transB: true }).reshape([B * T, V]), targets);
    l.backward();
    return l.item();
  });
  return { loss, grads: [...Object.values(w), lnw, lnb].map((t) => t.grad!.data() as Float32Array) };
}

describe('cpu tensor buffers in the wasm memory', () => {
  afterAll(() => useWasmKernels());

  it('large f32 results live in the wasm memory and dispose() gives the bytes back; small ones stay plain', () => {
    useWasmKernels();
    const before = wasmBufferBytes();
    const a = randn([64, 64], { rng: createRng(1) });
    const b = matmul(a, a);
    expect(isWasmF32(dataOf(b))).toBe(true);
    expect(wasmBufferBytes()).toBeGreaterThanOrEqual(before + 2 * 4 * 64 * 64);
    const small = matmul(randn([4, 4], { rng: createRng(3) }), randn([4, 4], { rng: createRng(4) }));
    expect(4 * 4).toBeLessThan(WASM_BUFFER_MIN);
    expect(isWasmF32(dataOf(small))).toBe(false);
    const view = dataOf(b);
    b.dispose();
    releaseF32(view); // a second release is a no-op, not a double free
    a.dispose();
    expect(wasmBufferBytes()).toBe(before);
  });

  it('outputs written in full are right in reused blocks that hold stale NaNs', () => {
    useJsKernels();
    const rng = createRng(8);
    const x = randn([3, 50, 70], { rng });
    const w = randn([90, 70], { rng });
    const b = randn([90], { rng });
    const run = (): Float32Array[] => {
      const h = matmul(x, w, { transB: true });
      return [h, h.add(b), gelu(h), h.permute([2, 0, 1]).contiguous(), h.mul(h).neg()].map((t) => t.data() as Float32Array);
    };
    const ref = run();
    useWasmKernels();
    for (let i = 0; i < 4; i++) {
      // Poison the blocks the next outputs will reuse (first fit from the lowest free block).
      const junk = Array.from({ length: 8 }, () => newF32Uninit(3 * 50 * 90).fill(Number.NaN));
      junk.forEach(releaseF32);
      run().forEach((got, k) => {
        const r = ref[k];
        let worst = 0;
        let scale = 0;
        for (let j = 0; j < r.length; j++) {
          worst = Math.max(worst, Math.abs(got[j] - r[j])); // a stale NaN makes worst NaN, which fails below
          scale = Math.max(scale, Math.abs(r[j]));
        }
        expect(worst).toBeLessThan(1e-5 * scale + 1e-6);
      });
    }
    expect(newF32(WASM_BUFFER_MIN).every((v) => v === 0)).toBe(true); // the zeroing variant still zeroes
  });

  it('the JS kernels keep plain arrays', () => {
    useJsKernels();
    const t = randn([64, 64], { rng: createRng(2) });
    expect(dataOf(t) instanceof Float32Array && !isWasmF32(dataOf(t))).toBe(true);
    useWasmKernels();
  });

  it('a model step gives the JS reference loss and gradients (wasm GEMM, GELU, softmax, buffers)', () => {
    useJsKernels();
    const ref = step();
    useWasmKernels();
    const got = step();
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    got.grads.forEach((g, i) => {
      const r = ref.grads[i];
      let worst = 0;
      let scale = 0;
      for (let j = 0; j < r.length; j++) {
        worst = Math.max(worst, Math.abs(g[j] - r[j]));
        scale = Math.max(scale, Math.abs(r[j]));
      }
      expect(worst).toBeLessThanOrEqual(1e-4 * scale + 1e-6);
    });
  });
});
