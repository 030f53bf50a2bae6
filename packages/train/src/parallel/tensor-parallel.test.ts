// Tensor parallel (Megatron) against the dense model: same loss and gradients with and without the vocab-parallel embedding and loss, the collectives counted, same parameters after AdamW steps, the memory vocab parallelism saves.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, smallGpt, smallLlama } from '../../test/parallel-fixtures.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { runInProcess } from './comm/threads.js';
import type { Communicator } from './communicator.js';
import { tensorParallel } from './tensor-parallel.js';

const LR = 1e-3;
const batch = randomBatch(4, 16, 64, 900);

/** Wraps a communicator to count all-reduce and all-gather calls. */
function counting(comm: Communicator): Communicator & { allReduces: number; allGathers: number } {
  const c = Object.create(comm) as Communicator & { allReduces: number; allGathers: number };
  c.allReduces = 0;
  c.allGathers = 0;
  c.allReduce = (data, op) => {
    c.allReduces++;
    return comm.allReduce(data, op);
  };
  c.allGather = (input, output) => {
    c.allGathers++;
    return comm.allGather(input, output);
  };
  return c;
}

describe('tensor parallel', () => {
  for (const [t, kind, vocabParallel] of [[2, 'gpt2', true], [4, 'gpt2', true], [2, 'llama', true], [2, 'gpt2', false], [2, 'llama', false]] as const) {
    const make = (seed: number) => (kind === 'llama' ? smallLlama(seed) : smallGpt(seed));
    const what = vocabParallel ? '+1 embedding, +1 loss, +1 head-gradient all-reduce and an all-gather of row maxima (vocab parallel)' : 'replicated embedding and head';
    it(`t=${t} ${kind}: loss and gradients equal the dense model's, with 2 all-reduces per block each way, ${what}`, async () => {
      const ref = fromLmkitModel(make(7));
      ref.zeroGrad();
      const refLoss = ref.lossAndBackward(batch, { lossScale: 1 });
      const out = await runInProcess(t, async (comm, r) => {
        const cc = counting(comm);
        const tp2 = await tensorParallel(cc, make(7 + r), { vocabParallel });
        cc.allReduces = 0;
        const loss = await tp2.lossAndBackward(batch, 1);
        const calls = [cc.allReduces, cc.allGathers];
        return { loss, calls, grads: await tp2.denseGradients() };
      });
      const L = 2;
      for (const o of out) {
        // Vocab parallel: the lookup's all-reduce, the loss's sums and the head's input gradient; the row maxima are all-gathered.
        expect(o.calls).toEqual(vocabParallel ? [4 * L + 3, 1] : [4 * L, 0]);
        expect(Math.abs(o.loss - refLoss)).toBeLessThan(1e-5);
        for (const p of ref.parameters()) {
          const g = o.grads.get(p.name)!;
          const scale = p.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          let worst = 0;
          for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - p.grad[i]) / (1e-5 * Math.abs(p.grad[i]) + 1e-5 * scale));
          expect(worst, p.name).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it('vocab parallel: each rank holds V/t rows of the embedding (and of an untied head) with their grads and AdamW moments', async () => {
    // Replicated, a table costs 8 B per element (params + grads) on every rank and 8 more (m, v) on rank 0, which updates and
    // broadcasts it; split, 16 B per element of V/t rows on every rank. (Megatron-style replication, 16 B on every rank, would
    // make the saving 16·(V − V/t)·C on every rank.)
    for (const [kind, tables, t] of [['gpt2', 1, 2], ['llama', 2, 2], ['gpt2', 1, 4]] as const) {
      const make = (seed: number) => (kind === 'llama' ? smallLlama(seed) : smallGpt(seed));
      const held = async (vocabParallel: boolean) => runInProcess(t, async (comm, r) => (await tensorParallel(comm, make(7 + r), { vocabParallel })).memory().total);
      const [split, replicated] = [await held(true), await held(false)];
      const { vocabSize: V, dModel: C } = make(7).spec;
      const saved = split.map((b, r) => replicated[r] - b);
      const predicted = split.map((_, r) => tables * ((r === 0 ? 16 : 8) * V * C - 16 * (V / t) * C));
      console.log(`tp=${t} ${kind}: vocab parallel holds ${split.join(' / ')} B per rank vs ${replicated.join(' / ')} B replicated: saves ${saved.join(' / ')} B (predicted ${predicted.join(' / ')} B)`);
      expect(saved).toEqual(predicted);
    }
  });

  it('t=2: parameters after 3 AdamW steps match one dense worker', async () => {
    const batches = [0, 1, 2].map((s) => randomBatch(4, 16, 64, 910 + s));
    const ref = fromLmkitModel(smallGpt(7));
    const opt = new AdamW(ref.parameters().map((p) => ({ ...p })), { lr: LR });
    for (const b of batches) {
      ref.zeroGrad();
      ref.lossAndBackward(b, { lossScale: 1 });
      clipGradNorm(ref.parameters().map((p) => p.grad), 1);
      opt.step(LR);
      ref.syncParameters?.();
    }
    const out = await runInProcess(2, async (comm, r) => {
      const tp = await tensorParallel(comm, smallGpt(7 + r), { optimizer: { lr: LR } });
      for (const b of batches) await tp.step([b], LR);
      return tp.fullParameters();
    });
    const d = maxAbsDiff(out[0], new Map(ref.parameters().map((p) => [p.name, p.data])));
    console.log(`TP(2) vs dense after 3 AdamW steps: max |Δparam| = ${d.toExponential(2)} (lr ${LR})`);
    expect(d).toBeLessThan(0.05 * LR * 3);
  });
});
