// Tensor parallel (Megatron) against the dense model: same loss and gradients, exactly one all-reduce per sub-block each way, same parameters after AdamW steps.
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

/** Wraps a communicator to count all-reduce calls. */
function counting(comm: Communicator): Communicator & { allReduces: number } {
  const c = Object.create(comm) as Communicator & { allReduces: number };
  c.allReduces = 0;
  c.allReduce = (data, op) => {
    c.allReduces++;
    return comm.allReduce(data, op);
  };
  return c;
}

describe('tensor parallel', () => {
  for (const [t, kind] of [[2, 'gpt2'], [4, 'gpt2'], [2, 'llama']] as const) {
    const make = (seed: number) => (kind === 'llama' ? smallLlama(seed) : smallGpt(seed));
    it(`t=${t} ${kind}: loss and gradients equal the dense model's, with 2 all-reduces per block each way`, async () => {
      const ref = fromLmkitModel(make(7));
      ref.zeroGrad();
      const refLoss = ref.lossAndBackward(batch, { lossScale: 1 });
      const out = await runInProcess(t, async (comm, r) => {
        const cc = counting(comm);
        const tp2 = await tensorParallel(cc, make(7 + r));
        cc.allReduces = 0;
        const loss = await tp2.lossAndBackward(batch, 1);
        const calls = cc.allReduces;
        return { loss, calls, grads: await tp2.denseGradients() };
      });
      const L = 2;
      for (const o of out) {
        expect(o.calls).toBe(4 * L);
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
