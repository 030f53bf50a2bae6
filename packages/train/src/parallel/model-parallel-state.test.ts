// Pipeline and tensor parallelism on the shared optimizer step: bf16/fp16 equal one worker with the same precision, and the full training state exported from one layout resumes on another (also through runParallelTraining's checkpoints).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeShard } from '../../test/helpers.js';
import { maxAbsDiff, randomBatch, singleWorkerReference, smallGpt } from '../../test/parallel-fixtures.js';
import { AdamW } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { openTokenDataset } from '../data/token-dataset.js';
import { causalLm } from '../objectives/causal-lm.js';
import { createStrategy, runParallelTraining, type ParallelTrainingOptions } from './parallel-training.js';
import { pipelineParallel } from './pipeline.js';
import type { FullTrainingState, ParallelStrategy } from './strategy.js';
import { tensorParallel } from './tensor-parallel.js';

const B = 4;
const LR = 1e-3;
const STEPS = 4;
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 1700 + s));
const SCALER: LossScalerOptions = { initScale: 2 ** 16, growthInterval: 2 };

interface Run {
  params: Map<string, Float32Array>;
  skipped: boolean[];
  scales: number[];
  state?: FullTrainingState;
}

/** One worker as the Trainer steps it (see singleWorkerReference), over the first `steps` batches. */
function singleWorker(precision: Precision, accum: number, steps = STEPS): Run & { opt: AdamW } {
  return singleWorkerReference(batches.slice(0, steps), { precision, accum, lr: LR, scaler: SCALER });
}

/** Every rank of `spec` steps the whole batch (model-parallel ranks read the same data); returns rank results. */
async function run(spec: string, precision: Precision, steps = STEPS): Promise<Run[]> {
  const s = parseParallelSpec(spec);
  return runInProcess(s.pp * s.tp, async (comm, r) => {
    const strategy = await createStrategy(comm, smallGpt(7 + r), s, { optimizer: { lr: LR }, precision, lossScaler: SCALER });
    const out: Run = { params: new Map(), skipped: [], scales: [] };
    for (const batch of batches.slice(0, steps)) {
      const res = await strategy.step([batch], LR);
      out.skipped.push(res.skipped ?? false);
      out.scales.push(res.lossScale ?? 1);
    }
    out.state = await strategy.exportState!();
    out.params = out.state.master;
    return out;
  });
}

describe('mixed precision with pipeline and tensor parallelism', () => {
  for (const precision of ['bf16', 'fp16'] as const) {
    it(`${precision}: tp=2, pp=2 and pp=2 × tp=2 equal one worker with the same precision (skips and loss scales too)`, async () => {
      const fp32 = singleWorker('fp32', 1);
      for (const [spec, accum] of [['tp=2', 1], ['pp=2,mb=2', 2], ['pp=2,tp=2,mb=2', 2]] as const) {
        const ref = singleWorker(precision, accum);
        const ranks = await run(spec, precision);
        for (const rk of ranks) {
          expect(rk.skipped, spec).toEqual(ref.skipped);
          expect(rk.scales, spec).toEqual(ref.scales);
          expect(maxAbsDiff(rk.params, ranks[0].params), `${spec}: every rank gathers the same masters`).toBe(0);
        }
        const d = maxAbsDiff(ranks[0].params, ref.params);
        console.log(`${precision} ${spec}: max |Δmaster| vs one worker ${d.toExponential(2)}; scales ${ref.scales.join(' ')}`);
        expect(maxAbsDiff(ref.params, fp32.params)).toBeGreaterThan(10 * d); // the precision really acts
        expect(d).toBeLessThan(0.05 * LR * STEPS);
      }
    });
  }
});

describe('full training state of pipeline / tensor parallel runs', () => {
  it('pp=2 × tp=2 exports the AdamW moments one worker has; the state resumes on tp=2 and on pp=2 and continues like an uninterrupted run', async () => {
    const ref2 = singleWorker('fp32', 2, 2);
    const [first] = await run('pp=2,tp=2,mb=2', 'fp32', 2);
    const st = ref2.opt.stateDict();
    expect(first.state!.optimizer.step).toBe(st.step);
    for (const kind of ['m', 'v'] as const) {
      for (const [name, want] of Object.entries(st[kind])) {
        const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
        const got = first.state!.optimizer[kind][name];
        expect(got.length, name).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1e-4 * scale + 1e-12));
        expect(worst, `${kind} of ${name}`).toBeLessThanOrEqual(1);
      }
    }
    expect(maxAbsDiff(first.state!.master, ref2.params)).toBeLessThan(0.01 * LR); // f32 sums in another order, through 2 AdamW steps
    // Resume: 2 more steps on another layout, from fresh models with other weights (the state overrides them).
    const ref4 = singleWorker('fp32', 2, 4);
    const resume = (make: (comm: Parameters<typeof tensorParallel>[0], r: number) => Promise<ParallelStrategy>, ranks: number) =>
      runInProcess(ranks, async (comm, r) => {
        const strategy = await make(comm, r);
        await strategy.importState!(first.state!);
        for (const batch of batches.slice(2)) await strategy.step([batch], LR);
        return strategy.fullParameters();
      });
    const onTp = await resume((comm, r) => tensorParallel(comm, smallGpt(100 + r), { optimizer: { lr: LR } }), 2);
    const onPp = await resume((comm, r) => pipelineParallel(comm, smallGpt(100 + r), { microBatches: 2, optimizer: { lr: LR } }), 2);
    for (const [what, out] of [['tp=2', onTp], ['pp=2', onPp]] as const) {
      const d = maxAbsDiff(out[0], ref4.params);
      console.log(`pp=2 × tp=2 → ${what} resume: max |Δparam| vs 4 uninterrupted steps of one worker ${d.toExponential(2)}`);
      expect(d).toBeLessThan(0.05 * LR * STEPS);
      expect(maxAbsDiff(out[1], out[0])).toBe(0);
    }
  });

  it('a state for another model fails on every rank with TRAIN_BAD_CHECKPOINT naming the parameter', async () => {
    const bad: FullTrainingState = { master: new Map(), optimizer: { step: 1, m: {}, v: {} } };
    const out = await runInProcess(2, async (comm, r) => {
      const tp = await tensorParallel(comm, smallGpt(7 + r));
      return tp.importState!(bad).then(() => 'ok', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);
    });
    for (const o of out) expect(o).toMatch(/TRAIN_BAD_CHECKPOINT: .*no master weights for "/);
  });
});

describe('runParallelTraining checkpoints of pipeline × tensor runs', () => {
  it('pp=2 × tp=2 in bf16: 6 steps equal 3 steps + checkpoint + 3 resumed steps bit for bit; the checkpoint also resumes on tp=2', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lmkit-mp-resume-'));
    await writeShard(join(root, 'train_000000.bin'), Array.from({ length: 6000 }, (_, i) => (i * 13 + (i >> 2)) % 64));
    await writeShard(join(root, 'val_000000.bin'), Array.from({ length: 300 }, (_, i) => (i * 5) % 64));
    const dataset = await openTokenDataset(root);
    const go = (specText: string, extra: Partial<ParallelTrainingOptions> & { steps: number }) => {
      const spec = parseParallelSpec(specText);
      return runInProcess(spec.dp * spec.pp * spec.tp, async (comm, r) => {
        const losses: number[] = [];
        const res = await runParallelTraining({ comm, spec, model: smallGpt(7 + r), dataset, objective: causalLm(), batchSize: 4, seqLen: 16, precision: 'bf16', schedule: { maxLr: 3e-3, totalSteps: 6 }, ...extra, onStep: (st) => losses.push(st.loss) });
        return { losses, params: res.parameters };
      });
    };
    const straight = await go('pp=2,tp=2,mb=2', { steps: 6 });
    const out = join(root, 'run');
    const first = await go('pp=2,tp=2,mb=2', { steps: 3, outDir: out });
    const resumed = await go('pp=2,tp=2,mb=2', { steps: 6, outDir: out, resume: true });
    expect([...first[0].losses, ...resumed[0].losses]).toEqual(straight[0].losses);
    expect(maxAbsDiff(resumed[0].params, straight[0].params)).toBe(0);
    // The same step-3 checkpoint on another layout continues within float tolerance (sums in another order).
    const other = join(root, 'other');
    await go('pp=2,tp=2,mb=2', { steps: 3, outDir: other });
    const onTp = await go('tp=2', { steps: 6, outDir: other, resume: true });
    const d = maxAbsDiff(onTp[0].params, straight[0].params);
    console.log(`pp=2 × tp=2 bf16 checkpoint resumed on tp=2: max |Δparam| vs the uninterrupted run ${d.toExponential(2)}`);
    expect(d).toBeLessThan(0.05 * 3e-3 * 3);
  });
});
