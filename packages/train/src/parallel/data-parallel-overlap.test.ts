// DDP with the all-reduce overlapped with backward: same parameters as plain DDP, and buckets really launched before backward ends.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt } from '../../test/parallel-fixtures.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { runInProcess } from './comm/threads.js';
import { dataParallel } from './data-parallel.js';
import { dataParallelDecoder } from './data-parallel-overlap.js';

const B = 4;
const LR = 1e-3;
const batches = [0, 1, 2].map((s) => randomBatch(B, 16, 64, 800 + s));

describe('data parallel with overlapped all-reduce', () => {
  for (const accum of [1, 2]) {
    it(`equals plain DDP (2 ranks, ${accum} micro-batch${accum > 1 ? 'es' : ''} per rank) and launches buckets during backward`, async () => {
      const run = (overlapped: boolean) => runInProcess(2, async (comm, r) => {
        const opts = { optimizer: { lr: LR }, firstBucketBytes: 8192, bucketBytes: 16_384 };
        const s = overlapped ? await dataParallelDecoder(comm, smallGpt(7 + r), opts) : await dataParallel(comm, fromLmkitModel(smallGpt(7 + r)), opts);
        for (const batch of batches) {
          const mine = sliceBatch(batch, (r * B) / 2, ((r + 1) * B) / 2);
          await s.step(Array.from({ length: accum }, (_, a) => sliceBatch(mine, (a * mine.batchSize) / accum, ((a + 1) * mine.batchSize) / accum)), LR);
        }
        const overlap = 'lastOverlap' in s ? (s as Awaited<ReturnType<typeof dataParallelDecoder>>).lastOverlap() : null;
        return { params: await s.fullParameters(), overlap };
      });
      const [plain, over] = [await run(false), await run(true)];
      const d = maxAbsDiff(over[0].params, plain[0].params);
      console.log(`overlapped vs plain DDP (accum ${accum}): max |Δparam| = ${d.toExponential(2)}; buckets launched during backward ${over[0].overlap!.launchedDuringBackward} of ${over[0].overlap!.buckets}`);
      expect(d).toBeLessThan(1e-6);
      expect(maxAbsDiff(over[1].params, over[0].params)).toBe(0);
      expect(over[0].overlap!.launchedDuringBackward).toBeGreaterThan(0);
      expect(over[0].overlap!.launchedDuringBackward).toBeLessThan(over[0].overlap!.buckets); // the embedding bucket waits for the end
    });
  }
});
