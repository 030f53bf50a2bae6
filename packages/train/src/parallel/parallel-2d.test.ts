// 2D parallelism: data parallel × pipeline and data parallel × tensor parallel (4 ranks, split groups) against one worker on the whole batch.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt } from '../../test/parallel-fixtures.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { createStrategy } from './parallel-training.js';

const B = 8;
const LR = 1e-3;
const STEPS = 2;
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 700 + s));

/** One worker, the batch as `micro` equal micro-batches (accumulated), clip 1, AdamW. */
function reference(micro: number): Map<string, Float32Array> {
  const model = fromLmkitModel(smallGpt(7));
  const params = model.parameters();
  const opt = new AdamW(params.map((p) => ({ ...p })), { lr: LR });
  for (const batch of batches) {
    model.zeroGrad();
    for (let k = 0; k < micro; k++) model.lossAndBackward(sliceBatch(batch, (k * B) / micro, ((k + 1) * B) / micro), { lossScale: 1 / micro });
    clipGradNorm(params.map((p) => p.grad), 1.0);
    opt.step(LR);
    model.syncParameters?.();
  }
  return new Map(params.map((p) => [p.name, p.data.slice()]));
}

describe('2D parallelism (split communicators)', () => {
  for (const [text, micro] of [['dp=2,pp=2,mb=2', 4], ['dp=2,tp=2', 1]] as const) {
    it(`${text} on 4 ranks equals one worker`, async () => {
      const spec = parseParallelSpec(text);
      const out = await runInProcess(4, async (comm, r) => {
        const strategy = await createStrategy(comm, smallGpt(7 + r), spec, { optimizer: { lr: LR } });
        const d = Math.floor(r / 2); // data-parallel replica of this rank
        for (const batch of batches) await strategy.step([sliceBatch(batch, (d * B) / 2, ((d + 1) * B) / 2)], LR);
        return { params: await strategy.fullParameters(), bytes: comm.bytesSent() };
      });
      const ref = reference(micro);
      for (const o of out) {
        const diff = maxAbsDiff(o.params, ref);
        expect(diff).toBeLessThan(0.05 * LR * STEPS);
        expect(o.bytes).toBeGreaterThan(0); // split groups count into the world communicator
      }
      console.log(`${text}: max |Δparam| vs one worker = ${maxAbsDiff(out[0].params, ref).toExponential(2)}`);
    });
  }
});
