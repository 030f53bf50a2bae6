// Pipeline stage partitioning: explicit block counts and the cost-balanced cut train exactly like the sequential model, and bad partitions are refused by name.
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt } from '../../test/parallel-fixtures.js';
import { expectGradsClose } from '../../test/expect-grads.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { createStrategy } from './parallel-training.js';
import { pipelineParallel, stageRanges, type PipelineStrategy, type StagePartition } from './pipeline.js';

const B = 8;
const T = 16;
const LR = 1e-3;
const STEPS = 2;
const M = 4;
// A 4-block GPT whose LM head (vocab 512) costs more than a block: the balanced cut is 3+1.
const CONFIG = { n_layer: 4, vocab_size: 512, tie_word_embeddings: false };
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, T, 512, 900 + s));

/** One worker, each batch as M accumulated micro-batches, clip 1.0, AdamW: first step's clipped gradients, final parameters, losses. */
function sequential(): { params: Map<string, Float32Array>; grads: Map<string, Float32Array>; losses: number[] } {
  const model = fromLmkitModel(smallGpt(7, CONFIG));
  const params = model.parameters();
  const opt = new AdamW(params.map((p) => ({ ...p })), { lr: LR });
  const losses: number[] = [];
  let grads = new Map<string, Float32Array>();
  batches.forEach((batch, step) => {
    model.zeroGrad();
    let loss = 0;
    for (let k = 0; k < M; k++) loss += model.lossAndBackward(sliceBatch(batch, (k * B) / M, ((k + 1) * B) / M), { lossScale: 1 / M });
    losses.push(loss / M);
    clipGradNorm(params.map((p) => p.grad), 1.0);
    if (step === 0) grads = new Map(params.map((p) => [p.name, p.grad.slice()]));
    opt.step(LR);
    model.syncParameters?.();
  });
  return { params: new Map(params.map((p) => [p.name, p.data.slice()])), grads, losses };
}

describe('pipeline stage partition', () => {
  const ref = sequential();
  for (const partition of [[3, 1], [1, 3], 'balanced'] as const) {
    for (const kind of ['gpipe', '1f1b'] as const) {
      it(`${kind}, 2 stages, partition ${JSON.stringify(partition)}: gradients and parameters after ${STEPS} AdamW steps = sequential`, async () => {
        const out = await runInProcess(2, async (comm, r) => {
          const pp = await pipelineParallel(comm, smallGpt(7 + r, CONFIG), { schedule: kind, microBatches: M, optimizer: { lr: LR }, partition });
          const losses = [(await pp.step([batches[0]], LR)).loss];
          const grads = await pp.lastGradients();
          for (const batch of batches.slice(1)) losses.push((await pp.step([batch], LR)).loss);
          return { losses, grads, params: await pp.fullParameters(), blocks: pp.blocks };
        });
        const counts = partition === 'balanced' ? [3, 1] : partition;
        expect(out.map((o) => o.blocks)).toEqual([[0, counts[0]], [counts[0], 4]]);
        for (const o of out) {
          o.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i])).toBeLessThan(1e-5));
          expectGradsClose(o.grads, ref.grads);
          expect(maxAbsDiff(o.params, ref.params)).toBeLessThan(0.05 * LR * STEPS);
        }
      });
    }
  }

  it('pp=2 × tp=2 (3D) with stages=3+1: parameters after AdamW steps = sequential', async () => {
    const spec = parseParallelSpec(`pp=2,tp=2,mb=${M},stages=3+1`);
    const out = await runInProcess(4, async (comm, r) => {
      const strategy = (await createStrategy(comm, smallGpt(7 + r, CONFIG), spec, { optimizer: { lr: LR }, gradClip: 1.0 })) as PipelineStrategy;
      for (const batch of batches) await strategy.step([batch], LR);
      return { params: await strategy.fullParameters(), blocks: strategy.blocks };
    });
    expect(out.map((o) => o.blocks)).toEqual([[0, 3], [0, 3], [3, 4], [3, 4]]);
    for (const o of out) expect(maxAbsDiff(o.params, ref.params)).toBeLessThan(0.05 * LR * STEPS);
  });

  it('stageRanges: uniform by default; balanced moves blocks off the last stage only when the head outweighs them', () => {
    const spec = smallGpt(7, CONFIG).spec;
    expect(stageRanges(spec, 2)).toEqual([[0, 2], [2, 4]]);
    expect(stageRanges({ ...spec, nLayer: 5 }, 2)).toEqual([[0, 2], [2, 5]]);
    expect(stageRanges(spec, 2, 'balanced')).toEqual([[0, 3], [3, 4]]);
    // A small head (vocab 64 against d 32) costs less than a block: the uniform cut is already the most even.
    expect(stageRanges({ ...spec, vocabSize: 64 }, 2, 'balanced')).toEqual([[0, 2], [2, 4]]);
    // 8 blocks, 4 stages, a head worth ~1.3 blocks: the last stage gets one block, the others 7 between them (3 next to it, the first stage holding the embedding adds a hair).
    expect(stageRanges({ ...spec, nLayer: 8 }, 4, 'balanced')).toEqual([[0, 2], [2, 4], [4, 7], [7, 8]]);
  });

  it('bad partitions are refused naming the field', async () => {
    const spec = smallGpt(7, CONFIG).spec;
    const cases: [StagePartition, RegExp][] = [[[4, 0], /stage 1 gets 0 blocks/], [[2, 1], /sum to 3, the model has 4/], [[1, 1, 2], /3 block counts for 2 stages/], [[2.5, 1.5], /integer/]];
    for (const [partition, message] of cases) {
      expect(() => stageRanges(spec, 2, partition)).toThrow(message);
      try {
        stageRanges(spec, 2, partition);
      } catch (e) {
        expect((e as { code: string }).code).toBe('TRAIN_COMM_BAD_ARGS');
        expect((e as { details: { field: string } }).details.field).toBe('partition');
      }
    }
    expect(() => parseParallelSpec('pp=2,stages=3+0')).toThrow(/stages must be block counts ≥ 1/);
    expect(() => parseParallelSpec('pp=2,stages=3+1+1')).toThrow(/3 block counts for pp=2/);
    expect(() => parseParallelSpec('pp=2,stages=even')).toThrow(/stages must be/);
    expect(() => parseParallelSpec('dp=2,stages=1+1')).toThrow(/pp ≥ 2/);
    expect(parseParallelSpec('pp=2,stages=3+1').partition).toEqual([3, 1]);
    expect(parseParallelSpec('pp=2,stages=balanced').partition).toBe('balanced');
    // The block-count check against the model happens when the pipeline is built.
    await expect(runInProcess(2, (comm, r) => pipelineParallel(comm, smallGpt(7 + r, CONFIG), { partition: [1, 1] }))).rejects.toThrow(/sum to 2, the model has 4/);
  });
});
