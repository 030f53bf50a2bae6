// 2D parallelism: data parallel × pipeline and data parallel × tensor parallel (4 ranks, split groups) against one worker on the whole batch.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt, singleWorkerReference } from '../../test/parallel-fixtures.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { createStrategy } from './parallel-training.js';

const B = 8;
const LR = 1e-3;
const STEPS = 2;
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 700 + s));

/** One worker on each whole batch as `micro` accumulated micro-batches, clip 1.0, AdamW (see singleWorkerReference). */
function reference(micro: number): Map<string, Float32Array> {
  return singleWorkerReference(batches, { precision: 'fp32', accum: micro, lr: LR, clip: 1.0 }).params;
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
