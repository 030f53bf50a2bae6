// ZeRO 1/2 over the data-parallel group of a pipeline or tensor-parallel replica (DeepSpeed's 3D): equal to zero 0 and to one worker, optimizer state divided by dp, bf16, and resume across ZeRO stages.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeShard } from '../../test/helpers.js';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt, singleWorkerReference } from '../../test/parallel-fixtures.js';
import { openTokenDataset, type TokenDataset } from '../data/token-dataset.js';
import { causalLm } from '../objectives/causal-lm.js';
import type { Precision } from '../trainer.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { createStrategy, runParallelTraining } from './parallel-training.js';
import type { MemoryReport } from './strategy.js';

const B = 8;
const LR = 1e-3;
const STEPS = 3;
const CLIP = 0.5; // below the gradient norms here, so the global norm across all ranks decides every update
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 2100 + s));

interface RankOut {
  name: string;
  norms: number[];
  params: Map<string, Float32Array>;
  memory: MemoryReport;
}

/** `text` on dp·pp·tp in-process ranks for STEPS AdamW steps (replica d takes rows [d·B/dp, (d+1)·B/dp)). */
async function run(text: string, precision: Precision = 'fp32'): Promise<RankOut[]> {
  const spec = parseParallelSpec(text);
  return runInProcess(spec.dp * spec.pp * spec.tp, async (comm, r) => {
    const strategy = await createStrategy(comm, smallGpt(7 + r), spec, { optimizer: { lr: LR }, gradClip: CLIP, precision });
    const d = Math.floor(r / (spec.pp * spec.tp));
    const norms: number[] = [];
    for (const batch of batches) norms.push((await strategy.step([sliceBatch(batch, (d * B) / spec.dp, ((d + 1) * B) / spec.dp)], LR)).gradNorm);
    return { name: strategy.name, norms, params: await strategy.fullParameters(), memory: strategy.memory() };
  });
}

/** One worker on each whole batch as `micro` accumulated micro-batches, clip CLIP, AdamW (see singleWorkerReference). */
function reference(micro: number): Map<string, Float32Array> {
  return singleWorkerReference(batches, { precision: 'fp32', accum: micro, lr: LR, clip: CLIP }).params;
}

describe('ZeRO 1/2 over the data-parallel group of a pp or tp replica', () => {
  for (const layout of ['dp=2,pp=2,mb=2', 'dp=2,tp=2'] as const) {
    it(`${layout}: zero 1 and 2 equal zero 0 and one worker after ${STEPS} AdamW steps; per-rank optimizer state falls by dp`, async () => {
      const base = await run(`${layout},zero=0`);
      const spec = parseParallelSpec(layout);
      const ref = reference(spec.dp * (spec.pp > 1 ? spec.microBatches : 1));
      for (const stage of [1, 2] as const) {
        const out = await run(`${layout},zero=${stage}`);
        out.forEach((o, r) => {
          expect(o.name).toContain(`zero${stage}`);
          // NOTE: the same arithmetic as zero 0 (tied sum, then the dp mean of each element), so bit-equal; the norm may differ in grouping only.
          for (let s = 0; s < STEPS; s++) expect(Math.abs(o.norms[s] - base[r].norms[s]) / base[r].norms[s]).toBeLessThan(1e-6);
          expect(maxAbsDiff(o.params, base[r].params)).toBe(0);
          expect(maxAbsDiff(o.params, ref)).toBeLessThan(0.05 * LR * STEPS);
          // ZeRO's formula: the AdamW moments (8 bytes per updated element) of a rank are 1/dp of zero 0's, up to the flat buffer's padding.
          const predicted = base[r].memory.optimizer / spec.dp;
          expect(Math.abs(o.memory.optimizer - predicted)).toBeLessThanOrEqual(8 * (spec.dp - 1));
          if (stage === 2) expect(o.memory.grads).toBeLessThanOrEqual(base[r].memory.grads / spec.dp + 4 * spec.dp);
        });
        const m = out.map((o, r) => `rank ${r}: ${o.memory.optimizer} B (predicted ${base[r].memory.optimizer / spec.dp}), grads ${o.memory.grads} B vs ${base[r].memory.grads} B`);
        console.log(`${layout} zero ${stage}: max |Δparam| vs zero 0 ${maxAbsDiff(out[0].params, base[0].params).toExponential(2)}, vs one worker ${maxAbsDiff(out[0].params, ref).toExponential(2)}; optimizer state per rank measured vs predicted (zero 0 / dp): ${m.join('; ')}`);
      }
    });
  }

  it('dp=2,pp=2 bf16: zero 1 and 2 train bit for bit like zero 0 (fp32 masters sliced over dp)', async () => {
    const base = await run('dp=2,pp=2,mb=2,zero=0', 'bf16');
    for (const stage of [1, 2] as const) {
      const out = await run(`dp=2,pp=2,mb=2,zero=${stage}`, 'bf16');
      const d = maxAbsDiff(out[0].params, base[0].params);
      console.log(`dp=2,pp=2 bf16 zero ${stage}: max |Δmaster| vs zero 0 after ${STEPS} steps = ${d.toExponential(2)}`);
      expect(d).toBe(0);
      for (const o of out) expect(maxAbsDiff(o.params, out[0].params)).toBe(0);
    }
  });

  it('dp=2,tp=2 fp16 zero 2: an Inf in one rank\'s reduced gradient slice makes all 4 ranks skip the step and halve the scale', async () => {
    const spec = parseParallelSpec('dp=2,tp=2,zero=2');
    const out = await runInProcess(4, async (comm, r) => {
      // NOTE: on rank 1 the second reduce-scatter over its data-parallel group leaves an Inf in its slice only (an fp16 overflow only its owner sees).
      const split = comm.split.bind(comm);
      comm.split = (ranks, key) => {
        const group = split(ranks, key);
        if (r !== 1 || !key.startsWith('dp')) return group;
        const reduceScatter = group.reduceScatter.bind(group);
        let calls = 0;
        group.reduceScatter = async (input, output, op) => {
          await reduceScatter(input, output, op);
          if (calls++ === 1) output[0] = Infinity;
        };
        return group;
      };
      const strategy = await createStrategy(comm, smallGpt(7 + r), spec, { optimizer: { lr: LR }, precision: 'fp16', lossScaler: { initScale: 1024 } });
      const d = Math.floor(r / 2);
      const res = [];
      for (const batch of batches) res.push(await strategy.step([sliceBatch(batch, d * (B / 2), (d + 1) * (B / 2))], LR));
      return { res, params: await strategy.fullParameters() };
    });
    for (const { res, params } of out) {
      expect(res.map((x) => x.skipped ?? false)).toEqual([false, true, false]);
      expect(res.map((x) => x.lossScale)).toEqual([1024, 512, 512]);
      expect(maxAbsDiff(params, out[0].params)).toBe(0);
    }
  });

  it('refuses ZeRO-3 with pp or tp by name', async () => {
    expect(() => parseParallelSpec('dp=2,pp=2,zero=3')).toThrow(/ZeRO-3 does not combine with pipeline or tensor parallelism/);
    const spec = { ...parseParallelSpec('dp=2,tp=2'), zero: 3 as const };
    await expect(runInProcess(4, async (comm, r) => createStrategy(comm, smallGpt(7 + r), spec))).rejects.toMatchObject({ code: 'TRAIN_COMM_BAD_ARGS' });
  });
});

describe('checkpoints across ZeRO stages of a dp × pp layout', () => {
  let root = '';
  let dataset: TokenDataset;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'lmkit-zero3d-'));
    await writeShard(join(root, 'train_000000.bin'), Array.from({ length: 6000 }, (_, i) => (i * 13 + (i >> 2)) % 64));
    await writeShard(join(root, 'val_000000.bin'), Array.from({ length: 300 }, (_, i) => (i * 5) % 64));
    dataset = await openTokenDataset(root);
  });
  const train = (text: string, steps: number, outDir?: string, resume = false) =>
    runInProcess(4, async (comm, r) => {
      const losses: number[] = [];
      const res = await runParallelTraining({ comm, spec: parseParallelSpec(text), model: smallGpt(7 + r), dataset, objective: causalLm(), steps, batchSize: 4, seqLen: 16, schedule: { maxLr: 3e-3, totalSteps: 6 }, outDir, resume, onStep: (s) => losses.push(s.loss) });
      return { losses, params: res.parameters };
    });

  it('a dp=2,pp=2 zero 1 checkpoint resumes on zero 1 and on zero 0 bit for bit', async () => {
    const whole1 = await train('dp=2,pp=2,mb=2,zero=1', 6);
    const whole0 = await train('dp=2,pp=2,mb=2,zero=0', 6);
    const out = join(root, 'z1');
    await train('dp=2,pp=2,mb=2,zero=1', 3, out);
    const onZero1 = await train('dp=2,pp=2,mb=2,zero=1', 6, join(root, 'z1'), true);
    expect(maxAbsDiff(onZero1[0].params, whole1[0].params)).toBe(0);
    const out2 = join(root, 'z1b');
    await train('dp=2,pp=2,mb=2,zero=1', 3, out2);
    const onZero0 = await train('dp=2,pp=2,mb=2,zero=0', 6, out2, true);
    const d = maxAbsDiff(onZero0[0].params, whole0[0].params);
    console.log(`dp=2,pp=2: zero 1 (3 steps) → zero 0 (3 more) vs zero 0 all along: max |Δmaster| = ${d.toExponential(2)}; vs zero 1 all along ${maxAbsDiff(onZero0[0].params, whole1[0].params).toExponential(2)}`);
    expect(d).toBe(0);
    for (const o of onZero0) expect(maxAbsDiff(o.params, onZero0[0].params)).toBe(0);
  });
});
