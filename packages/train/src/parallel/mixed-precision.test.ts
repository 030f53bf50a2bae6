// bf16/fp16 across ranks: DDP and ZeRO 1/2/3 equal one worker with the same precision, and an fp16 overflow on ONE rank makes every rank skip the step and halve the scale.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, singleWorkerReference, sliceBatch, smallGpt } from '../../test/parallel-fixtures.js';
import { fromLmkitModel } from '../lmkit-model.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import type { TrainableModel } from '../trainable-model.js';
import { runInProcess } from './comm/threads.js';
import type { Communicator } from './communicator.js';
import { dataParallel } from './data-parallel.js';
import { dataParallelDecoder } from './data-parallel-overlap.js';
import { OptimizerStep } from './internal/optimizer-step.js';
import type { ParallelStrategy } from './strategy.js';
import { zero } from './zero.js';
import { fullyShardedDecoder } from './zero3.js';

const B = 4;
const LR = 1e-3;
const STEPS = 4;
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 500 + s));
// NOTE: growth every 2 clean steps, so the runs below change the scale both ways.
const SCALER: LossScalerOptions = { initScale: 2 ** 16, growthInterval: 2 };

interface Run {
  params: Map<string, Float32Array>;
  skipped: boolean[];
  scales: number[];
}

/** One worker as the Trainer steps it (see singleWorkerReference). */
function singleWorker(precision: Precision, accum: number): Run {
  return singleWorkerReference(batches, { precision, accum, lr: LR, scaler: SCALER });
}

type Make = (comm: Communicator, r: number, precision: Precision) => Promise<ParallelStrategy>;
const STRATEGIES: [string, Make][] = [
  ['DDP', (comm, r, precision) => dataParallel(comm, fromLmkitModel(smallGpt(7 + r)), { optimizer: { lr: LR }, precision, lossScaler: SCALER })],
  ['DDP overlapped', (comm, r, precision) => dataParallelDecoder(comm, smallGpt(7 + r), { optimizer: { lr: LR }, precision, lossScaler: SCALER, bucketBytes: 16_384 })],
  ['ZeRO-1', (comm, r, precision) => zero(comm, fromLmkitModel(smallGpt(7 + r)), { stage: 1, optimizer: { lr: LR }, precision, lossScaler: SCALER })],
  ['ZeRO-2', (comm, r, precision) => zero(comm, fromLmkitModel(smallGpt(7 + r)), { stage: 2, optimizer: { lr: LR }, precision, lossScaler: SCALER })],
  ['ZeRO-3', (comm, r, precision) => fullyShardedDecoder(comm, smallGpt(7 + r), { optimizer: { lr: LR }, precision, lossScaler: SCALER })],
];

/** 2 ranks, each on its half of every batch. */
async function distributed(make: Make, precision: Precision): Promise<Run[]> {
  return runInProcess(2, async (comm, r) => {
    const s = await make(comm, r, precision);
    const out: Run = { params: new Map(), skipped: [], scales: [] };
    for (const batch of batches) {
      const res = await s.step([sliceBatch(batch, r * (B / 2), (r + 1) * (B / 2))], LR);
      out.skipped.push(res.skipped ?? false);
      out.scales.push(res.lossScale ?? 1);
    }
    out.params = (await s.exportState!()).master;
    return out;
  });
}

describe('mixed precision across data-parallel ranks', () => {
  for (const precision of ['bf16', 'fp16'] as const) {
    it(`${precision}: 2 ranks equal one worker accumulating 2 micro-batches (DDP bit for bit) and on the whole batch (within 0.05·lr·steps)`, async () => {
      const accum = singleWorker(precision, 2);
      const whole = singleWorker(precision, 1);
      const fp32 = singleWorker('fp32', 1);
      for (const [name, make] of STRATEGIES) {
        const ranks = await distributed(make, precision);
        expect(maxAbsDiff(ranks[1].params, ranks[0].params), `${name}: replicas agree`).toBe(0);
        for (const rk of ranks) {
          expect(rk.skipped, name).toEqual(accum.skipped);
          expect(rk.scales, name).toEqual(accum.scales);
        }
        const dAccum = maxAbsDiff(ranks[0].params, accum.params);
        const dWhole = maxAbsDiff(ranks[0].params, whole.params);
        console.log(`${precision} ${name}: max |Δmaster| vs one worker, accum 2: ${dAccum.toExponential(2)}; whole batch: ${dWhole.toExponential(2)}; skipped ${accum.skipped.filter(Boolean).length} of ${STEPS}, scales ${accum.scales.join(' ')}`);
        if (name === 'DDP') expect(dAccum).toBe(0);
        expect(dAccum).toBeLessThan(1e-6); // measured 0 for every strategy with 2 ranks
        expect(maxAbsDiff(whole.params, fp32.params)).toBeGreaterThan(10 * dWhole); // the precision really acts
        expect(dWhole).toBeLessThan(0.05 * LR * STEPS);
      }
      if (precision === 'fp16') expect(accum.scales).toContain(2 ** 17); // NOTE: the runs exercised growth
    });
  }
});

/** `inner`, but on `rank` at 0-based `step` one gradient entry becomes +Inf after backward (an fp16 overflow on that rank only). */
function injectInf(inner: TrainableModel, at: { rank: number; step: number; index: number }, rank: number): TrainableModel {
  let calls = 0;
  return {
    ...inner,
    parameters: () => inner.parameters(),
    lossAndBackward(batch: ObjectiveBatch, o) {
      const loss = inner.lossAndBackward(batch, o);
      if (rank === at.rank && calls === at.step) {
        const params = inner.parameters();
        const p = at.index >= 0 ? params[0] : params[params.length - 1];
        p.grad[at.index >= 0 ? at.index : p.grad.length + at.index] = Infinity;
      }
      calls++;
      return loss;
    },
  };
}

describe('fp16 overflow agreement', () => {
  // index 0 lies in rank 0's ZeRO shard, index −1 in rank 1's: with a reduce-scatter only that shard's owner sees the Inf.
  for (const [name, stage] of [['DDP', 0], ['ZeRO-1', 1], ['ZeRO-2', 2]] as const) {
    for (const at of [{ rank: 1, step: 1, index: 0 }, { rank: 0, step: 1, index: -1 }]) {
      it(`${name}: an Inf on rank ${at.rank} only (in rank ${at.index === 0 ? 0 : 1}'s shard) makes both ranks skip step 2 and halve the scale`, async () => {
        const out = await runInProcess(2, async (comm, r) => {
          const model = injectInf(fromLmkitModel(smallGpt(7 + r)), at, r);
          const opts = { optimizer: { lr: LR }, precision: 'fp16' as const, lossScaler: { initScale: 1024 } };
          const s = stage === 0 ? await dataParallel(comm, model, opts) : await zero(comm, model, { stage, ...opts });
          const res = [];
          const snapshots: Map<string, Float32Array>[] = [];
          for (const batch of batches.slice(0, 3)) {
            res.push(await s.step([sliceBatch(batch, r * (B / 2), (r + 1) * (B / 2))], LR));
            snapshots.push((await s.exportState!()).master);
          }
          return { res, snapshots };
        });
        for (const { res, snapshots } of out) {
          expect(res.map((x) => x.skipped)).toEqual([false, true, false]);
          expect(res.map((x) => x.lossScale)).toEqual([1024, 512, 512]);
          expect(Number.isNaN(res[1].gradNorm)).toBe(true);
          expect(maxAbsDiff(snapshots[1], snapshots[0])).toBe(0); // the skipped step changed nothing
          expect(maxAbsDiff(snapshots[2], snapshots[1])).toBeGreaterThan(0);
        }
        expect(maxAbsDiff(out[1].snapshots[2], out[0].snapshots[2])).toBe(0); // ranks never diverge
      });
    }
  }

  it('the shared optimizer step agrees on a sharded overflow (ZeRO-3 / model-parallel layout) and on bf16 without a scaler it fails on every rank', async () => {
    const out = await runInProcess(3, async (comm, r) => {
      const grad = Float32Array.from([0.5, -0.25, 1]);
      const data = new Float32Array(3).fill(r);
      const opt = new OptimizerStep(comm, [{ name: `shard${r}`, shape: [3], data, grad }], { sharded: true, precision: 'fp16', lossScaler: { initScale: 8 } });
      if (r === 2) grad[1] = NaN;
      const first = await opt.step(LR);
      grad.set([4, 4, 4]);
      const second = await opt.step(LR);
      const bf16 = new OptimizerStep(comm, [{ name: 'w', shape: [1], data: new Float32Array(1), grad: Float32Array.of(r === 1 ? Infinity : 1) }], { sharded: true, precision: 'bf16' });
      const failure = await bf16.step(LR).then(() => null, (e: { code?: string }) => e.code);
      return { first, second, data: [...data], failure };
    });
    for (const [r, o] of out.entries()) {
      expect(o.first).toEqual({ gradNorm: NaN, skipped: true });
      expect(o.second.skipped).toBe(false);
      expect(o.second.gradNorm).toBeCloseTo(Math.sqrt(3 * 3 * (4 / 4) ** 2), 12); // unscaled by S = 4 after the backoff: 9 ones
      expect(o.data.every((x) => x !== r)).toBe(true);
      expect(o.failure).toBe('TRAIN_NONFINITE_LOSS');
    }
  });

  it('normWeights count a parameter replicated on every rank once in the global norm', async () => {
    const out = await runInProcess(2, async (comm, r) => {
      const own = Float32Array.of(r === 0 ? 3 : 4); // sharded: one value per rank
      const shared = Float32Array.of(12); // the same copy on both ranks
      const opt = new OptimizerStep(comm, [{ name: 'own', shape: [1], data: new Float32Array(1), grad: own }, { name: 'norm.weight', shape: [1], data: new Float32Array(1), grad: shared }], { sharded: true, normWeights: [1, 1 / comm.worldSize], gradClip: 0 });
      return (await opt.step(LR)).gradNorm;
    });
    expect(out).toEqual([13, 13]); // √(3² + 4² + 12²)
  });
});
