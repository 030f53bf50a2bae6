// Checkpoint and resume of parallel runs in the single-worker trainer's format: bit-identical continuation, across layouts and to/from train(); a time budget stops every rank on the same step.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeShard } from '../../test/helpers.js';
import { maxAbsDiff, smallGpt } from '../../test/parallel-fixtures.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { openTokenDataset, type TokenDataset } from '../data/token-dataset.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { causalLm } from '../objectives/causal-lm.js';
import { train, type Precision } from '../trainer.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { runParallelTraining, type ParallelTrainingOptions } from './parallel-training.js';

const LR = 3e-3;
let root = '';
let dataset: TokenDataset;
let runs = 0;
const fresh = (): string => join(root, `run${runs++}`);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lmkit-presume-'));
  await writeShard(join(root, 'train_000000.bin'), Array.from({ length: 6000 }, (_, i) => (i * 13 + (i >> 2)) % 64));
  await writeShard(join(root, 'val_000000.bin'), Array.from({ length: 300 }, (_, i) => (i * 5) % 64));
  dataset = await openTokenDataset(root);
});

interface RankOut {
  steps: number;
  losses: number[];
  params: Map<string, Float32Array>;
  stoppedByTime: boolean;
}

/** Runs `spec` on N in-process ranks (rank r starts from different weights; rank 0's are broadcast). */
async function parallel(specText: string, extra: Partial<ParallelTrainingOptions> & { steps: number }, perRank: (r: number) => Partial<ParallelTrainingOptions> = () => ({})): Promise<RankOut[]> {
  const spec = parseParallelSpec(specText);
  return runInProcess(spec.dp * spec.pp * spec.tp, async (comm, r) => {
    const losses: number[] = [];
    const res = await runParallelTraining({
      comm, spec, model: smallGpt(7 + r), dataset, objective: causalLm(), batchSize: 4, seqLen: 16, schedule: { maxLr: LR, totalSteps: 6 },
      ...extra, ...perRank(r), onStep: (s) => losses.push(s.loss),
    });
    return { steps: res.steps, losses, params: res.parameters, stoppedByTime: res.stoppedByTime };
  });
}

/** The single-worker trainer on the same data (batch 4 from the same seeded stream). */
async function single(outDir: string, steps: number, precision: Precision, resume = false): Promise<{ params: Map<string, Float32Array>; losses: number[] }> {
  const model = fromLmkitModel(smallGpt(7));
  const res = await train({ model, objective: causalLm(), dataset, steps, batchSize: 4, seqLen: 16, schedule: { maxLr: LR, totalSteps: 6 }, precision, outDir, resume, progress: 'silent', evalEvery: 0, evalBatches: 1 });
  const ck = await loadCheckpoint(join(outDir, 'checkpoint'));
  return { params: ck.master, losses: res.metrics.map((m) => m.loss ?? NaN) };
}

describe('parallel checkpoints resume exactly', () => {
  for (const [specText, precision] of [['dp=2,zero=2', 'fp32'], ['dp=2,zero=3', 'fp16'], ['dp=2', 'bf16']] as const) {
    it(`${specText} ${precision}: 6 steps equal 3 steps + checkpoint + resume for 3, bit for bit`, async () => {
      const whole = await parallel(specText, { steps: 6, precision });
      const out = fresh();
      const first = await parallel(specText, { steps: 3, precision, outDir: out });
      const ck = await loadCheckpoint(join(out, 'checkpoint'));
      expect(ck.state.step).toBe(3);
      expect(ck.state.run).toMatchObject({ precision, batchSize: 4, seqLen: 16 });
      expect(ck.master.size).toBe(smallGpt().namedParameters().length);
      if (precision === 'fp16') expect(ck.state.scaler?.scale).toBeGreaterThan(0);
      const second = await parallel(specText, { steps: 6, precision, outDir: out, resume: true });
      for (const [r, rank] of second.entries()) {
        expect(rank.steps).toBe(6);
        expect([...first[r].losses, ...rank.losses]).toEqual(whole[r].losses);
        expect(maxAbsDiff(rank.params, whole[r].params)).toBe(0);
      }
    });
  }

  it('a dp=2 ZeRO-1 checkpoint resumes in the single-worker trainer, and a train() checkpoint resumes on dp=2 ZeRO-3 (fp32, within 1e-3·lr·steps)', async () => {
    const ref = await single(fresh(), 6, 'fp32');
    const dpWhole = await parallel('dp=2,zero=1', { steps: 6 });
    const dpVsOne = maxAbsDiff(dpWhole[0].params, ref.params);
    // dp → one worker
    const a = fresh();
    await parallel('dp=2,zero=1', { steps: 3, outDir: a });
    const resumed = await single(a, 6, 'fp32', true);
    const d1 = maxAbsDiff(resumed.params, ref.params);
    // one worker → dp (ZeRO-3)
    const b = fresh();
    await single(b, 3, 'fp32');
    const back = await parallel('dp=2,zero=3', { steps: 6, outDir: b, resume: true });
    const d2 = maxAbsDiff(back[0].params, ref.params);
    console.log(`max |Δmaster| vs one worker for 6 steps: dp=2 all along ${dpVsOne.toExponential(2)}; dp=2 → train() ${d1.toExponential(2)}; train() → dp=2 ZeRO-3 ${d2.toExponential(2)}`);
    for (const d of [dpVsOne, d1, d2]) expect(d).toBeLessThan(1e-3 * LR * 6); // measured ≤ 2e-6 (summation order of the split batch)
    expect(maxAbsDiff(back[1].params, back[0].params)).toBe(0);
    expect(resumed.losses.slice(3).every(Number.isFinite)).toBe(true);
  });

  it('with dropout, dp=2 ZeRO-1 (the dp strategy that runs dropout): 3 steps + resume for 3 equal 6 steps bit for bit; the replicas draw different masks', async () => {
    const DROP = { resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 };
    const run = (steps: number, outDir?: string, resume = false): Promise<RankOut[]> => runInProcess(2, async (comm) => {
      const losses: number[] = [];
      // NOTE: both ranks build the same model with the same seed, as the CLI does: the replicas' dropout streams must still differ.
      const res = await runParallelTraining({
        comm, spec: parseParallelSpec('dp=2,zero=1'), model: smallGpt(7, DROP), dataset, objective: causalLm(), batchSize: 4, seqLen: 16, schedule: { maxLr: LR, totalSteps: 6 },
        steps, ...(outDir ? { outDir, resume } : {}), onStep: (s) => losses.push(s.loss),
      });
      return { steps: res.steps, losses, params: res.parameters, stoppedByTime: res.stoppedByTime };
    });
    const whole = await run(6);
    const out = fresh();
    const first = await run(3, out);
    const ck = await loadCheckpoint(join(out, 'checkpoint'));
    expect(ck.state.modelRngs).toHaveLength(2);
    expect(ck.state.modelRngs![1]).not.toEqual(ck.state.modelRngs![0]);
    expect(ck.state.modelRng).toEqual(ck.state.modelRngs![0]);
    const second = await run(6, out, true);
    for (const [r, rank] of second.entries()) {
      expect([...first[r].losses, ...rank.losses]).toEqual(whole[r].losses);
      expect(maxAbsDiff(rank.params, whole[r].params)).toBe(0);
    }
  });

  it('dp=2 reports the global batch loss: one worker\'s loss on the whole batch, on every rank', async () => {
    const ref = await single(fresh(), 3, 'fp32');
    for (const specText of ['dp=2', 'dp=2,zero=2']) {
      const ranks = await parallel(specText, { steps: 3 });
      for (const rank of ranks) {
        expect(Math.abs(rank.losses[0] - ref.losses[0])).toBeLessThan(1e-6); // same weights, same batch
        rank.losses.forEach((l, i) => expect(Math.abs(l - ref.losses[i])).toBeLessThan(1e-5)); // later steps: masters differ by ~1e-7
      }
      expect(ranks[1].losses).toEqual(ranks[0].losses);
    }
  });

  it('refuses a checkpoint of another precision, naming the field', async () => {
    const out = fresh();
    await parallel('dp=2', { steps: 2, outDir: out });
    await expect(parallel('dp=2', { steps: 4, outDir: out, resume: true, precision: 'bf16' })).rejects.toThrow(/precision = fp32, this run has bf16/);
  });
});

describe('resume from a checkpoint of another model', () => {
  it('fails on every rank with TRAIN_BAD_CHECKPOINT naming the parameter (none is left waiting in a collective)', async () => {
    const out = fresh();
    await parallel('dp=2,zero=2', { steps: 1, outDir: out });
    const codes = await runInProcess(2, async (comm, r) => runParallelTraining({
      comm, spec: parseParallelSpec('dp=2,zero=2'), model: smallGpt(7 + r, { n_embd: 16 }), dataset, objective: causalLm(), steps: 2, batchSize: 4, seqLen: 16, outDir: out, resume: true,
    }).then(() => 'resumed', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`));
    console.log(codes[0]);
    for (const c of codes) expect(c).toMatch(/^TRAIN_BAD_CHECKPOINT: \S+checkpoint: the training state has \d+ values of master weights for "[^"]+", the model has \d+/);
  });
});

describe('stop signal across ranks', () => {
  it('rank 0\'s aborted signal stops every rank after the same step with a checkpoint, and the run resumes from there', async () => {
    const out = fresh();
    const spec = parseParallelSpec('dp=2,zero=2');
    const ranks = await runInProcess(2, async (comm, r) => {
      const stop = new AbortController();
      const res = await runParallelTraining({
        comm, spec, model: smallGpt(7 + r), dataset, objective: causalLm(), batchSize: 4, seqLen: 16, steps: 50, outDir: out, signal: stop.signal,
        onStep: (s) => { if (r === 0 && s.step === 2) stop.abort(); }, // NOTE: only rank 0 is told; rank 1 follows its verdict
      });
      return { steps: res.steps, interrupted: res.interrupted, stoppedByTime: res.stoppedByTime };
    });
    expect(ranks).toEqual([{ steps: 2, interrupted: true, stoppedByTime: false }, { steps: 2, interrupted: true, stoppedByTime: false }]);
    expect((await loadCheckpoint(join(out, 'checkpoint'))).state.step).toBe(2);
    const more = await parallel('dp=2,zero=2', { steps: 4, outDir: out, resume: true, schedule: { maxLr: LR, totalSteps: 50 } });
    expect(more.map((m) => m.steps)).toEqual([4, 4]);
  });
});

describe('time budget across ranks', () => {
  it('rank 0 decides: ranks told different budgets stop after the same step, checkpoint it, and the run resumes from there', async () => {
    const out = fresh();
    // NOTE: rank 1's own budget (an hour) would never stop it; rank 0's verdict is what counts.
    const ranks = await parallel('dp=2,zero=2', { steps: 400, outDir: out, schedule: { maxLr: LR } }, (r) => ({ timeBudgetSeconds: r === 0 ? 0.05 : 3600 }));
    const steps = ranks[0].steps;
    console.log(`time budget 0.05 s on rank 0: both ranks stopped after step ${steps}`);
    expect(ranks.map((x) => x.stoppedByTime)).toEqual([true, true]);
    expect(ranks[1].steps).toBe(steps);
    expect(steps).toBeLessThan(400);
    expect(maxAbsDiff(ranks[1].params, ranks[0].params)).toBe(0);
    const ck = await loadCheckpoint(join(out, 'checkpoint'));
    expect(ck.state.step).toBe(steps);
    const more = await parallel('dp=2,zero=2', { steps: steps + 2, outDir: out, resume: true, schedule: { maxLr: LR } });
    expect(more.map((m) => m.steps)).toEqual([steps + 2, steps + 2]);
  });
});
