// Vocab-parallel lookup and cross-entropy against the dense embedding and the dense cross-entropy op: same values and gradients, uneven splits, ignored rows, bad targets.
import { crossEntropy, embedding, tensor } from '@lmkit/tensor';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../rng.js';
import { runInProcess } from './comm/threads.js';
import { vocabParallelCrossEntropy, vocabParallelLookup, vocabRange } from './vocab-parallel.js';

const rng = new SeededRng(42);
const randn = (n: number, scale = 3): Float32Array => Float32Array.from({ length: n }, () => (rng.float() - 0.5) * 2 * scale);

describe('vocab parallel', () => {
  for (const [V, t] of [[64, 2], [7, 3], [50, 4]] as const) {
    it(`cross-entropy over V=${V} split ${t} ways equals the dense op (loss rtol 1e-6, gradient atol 1e-7)`, async () => {
      const N = 12;
      const logits = randn(N * V);
      logits[5 * V + 2] = 80; // one very confident row: the shared max keeps exp() finite
      const targets = Int32Array.from({ length: N }, (_, i) => (i % 5 === 4 ? -100 : rng.int(V)));
      const x = tensor(logits, [N, V]).requiresGrad_(true);
      const ref = crossEntropy(x, tensor(targets, [N], { dtype: 'i32' }), { ignoreIndex: -100 });
      ref.backward();
      const refLoss = ref.item();
      const refGrad = x.grad!.data() as Float32Array;
      const out = await runInProcess(t, async (comm, r) => {
        const [v0, v1] = vocabRange(V, t, r);
        const local = new Float32Array(N * (v1 - v0));
        for (let i = 0; i < N; i++) local.set(logits.subarray(i * V + v0, i * V + v1), i * (v1 - v0));
        return { v0, v1, ...(await vocabParallelCrossEntropy(comm, local, targets, v0, { vocabSize: V, scale: 1 })) };
      });
      for (const o of out) {
        expect(Math.abs(o.loss - refLoss) / refLoss).toBeLessThan(1e-6);
        expect(o.count).toBe(targets.filter((y) => y !== -100).length);
        const w = o.v1 - o.v0;
        for (let i = 0; i < N; i++) for (let j = 0; j < w; j++) expect(Math.abs(o.grad[i * w + j] - refGrad[i * V + o.v0 + j])).toBeLessThan(1e-7);
      }
    });
  }

  it('the lookup parts of all ranks sum to the dense embedding; each part scatters its gradient into its own rows', async () => {
    const [V, C, t] = [10, 4, 3];
    const table = randn(V * C);
    const ids = Int32Array.from([0, 9, 3, 3, 7, 4]);
    const g = randn(ids.length * C);
    const w = tensor(table, [V, C]).requiresGrad_(true);
    const dense = embedding(w, tensor(ids, [2, 3], { dtype: 'i32' }));
    dense.backward(tensor(g, [2, 3, C]));
    const sum = new Float32Array(ids.length * C);
    for (let r = 0; r < t; r++) {
      const [v0, v1] = vocabRange(V, t, r);
      const local = tensor(table.slice(v0 * C, v1 * C), [v1 - v0, C]).requiresGrad_(true);
      const part = vocabParallelLookup(local, ids, [2, 3], v0);
      (part.data() as Float32Array).forEach((v, i) => (sum[i] += v));
      part.backward(tensor(g, [2, 3, C]));
      expect(Array.from(local.grad!.data() as Float32Array)).toEqual(Array.from((w.grad!.data() as Float32Array).subarray(v0 * C, v1 * C)));
    }
    expect(Array.from(sum)).toEqual(Array.from(dense.data() as Float32Array));
  });

  it('rejects a target outside the vocabulary with TRAIN_BAD_TARGET naming the row', async () => {
    await expect(runInProcess(2, (comm) => vocabParallelCrossEntropy(comm, new Float32Array(2 * 4), Int32Array.from([1, 9]), comm.rank * 4, { vocabSize: 8 }))).rejects.toMatchObject({ code: 'TRAIN_BAD_TARGET', message: expect.stringMatching(/targets\[1\] = 9/) });
  });
});
