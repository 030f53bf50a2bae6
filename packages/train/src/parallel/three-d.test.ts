// 3D parallelism: pipeline × tensor (4 ranks) and data × pipeline × tensor (8 ranks) against one worker on the whole batch — gradients, the global norm, and parameters after AdamW steps; tcp processes against threads.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleForTest } from '../../test/bundle.js';
import { writeShard } from '../../test/helpers.js';
import { freePort, spawnRanks } from '../../test/spawn-ranks.js';
import { openTokenDataset } from '../data/token-dataset.js';
import { causalLm } from '../objectives/causal-lm.js';
import { maxAbsDiff, randomBatch, sliceBatch, smallGpt, smallLlama } from '../../test/parallel-fixtures.js';
import { expectGradsClose } from '../../test/expect-grads.js';
import { fromLmkitModel } from '../lmkit-model.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip-grad-norm.js';
import { runInProcess } from './comm/threads.js';
import { parseParallelSpec } from './parallel-spec.js';
import { createStrategy, runParallelTraining } from './parallel-training.js';
import type { PipelineStrategy } from './pipeline.js';

const B = 8;
const LR = 1e-3;
const STEPS = 3;
const CLIP = 0.5; // below the gradient norms here, so the global norm across ranks decides every update
const batches = Array.from({ length: STEPS }, (_, s) => randomBatch(B, 16, 64, 1300 + s));

/** One worker: each step's batch as `micro` equal micro-batches (accumulated), clip CLIP, AdamW; first step's clipped gradients and norm. */
function reference(kind: 'gpt2' | 'llama', micro: number): { params: Map<string, Float32Array>; grads: Map<string, Float32Array>; norm: number } {
  const model = fromLmkitModel(kind === 'llama' ? smallLlama(7) : smallGpt(7));
  const params = model.parameters();
  const opt = new AdamW(params.map((p) => ({ ...p })), { lr: LR });
  let grads = new Map<string, Float32Array>();
  let norm = NaN;
  batches.forEach((batch, step) => {
    model.zeroGrad();
    for (let k = 0; k < micro; k++) model.lossAndBackward(sliceBatch(batch, (k * B) / micro, ((k + 1) * B) / micro), { lossScale: 1 / micro });
    const n = clipGradNorm(params.map((p) => p.grad), CLIP);
    if (step === 0) [grads, norm] = [new Map(params.map((p) => [p.name, p.grad.slice()])), n];
    opt.step(LR);
    model.syncParameters?.();
  });
  return { params: new Map(params.map((p) => [p.name, p.data.slice()])), grads, norm };
}

describe('3D parallelism (pipeline stages that are themselves tensor-parallel)', () => {
  for (const [text, ranks, kind] of [['pp=2,tp=2,mb=2', 4, 'gpt2'], ['pp=2,tp=2,mb=2,schedule=gpipe', 4, 'llama'], ['dp=2,pp=2,tp=2,mb=2', 8, 'gpt2']] as const) {
    it(`${text} (${kind}) on ${ranks} ranks: gradients, norm and parameters after ${STEPS} AdamW steps equal one worker`, async () => {
      const spec = parseParallelSpec(text);
      const make = (seed: number) => (kind === 'llama' ? smallLlama(seed) : smallGpt(seed));
      const out = await runInProcess(ranks, async (comm, r) => {
        const strategy = (await createStrategy(comm, make(7 + r), spec, { optimizer: { lr: LR }, gradClip: CLIP })) as PipelineStrategy;
        const d = Math.floor(r / (spec.pp * spec.tp)); // data-parallel replica (rank = dp·(pp·tp) + pp·tp + tp)
        const slice = (b: (typeof batches)[number]) => sliceBatch(b, (d * B) / spec.dp, ((d + 1) * B) / spec.dp);
        const first = await strategy.step([slice(batches[0])], LR);
        const grads = await strategy.lastGradients();
        for (const batch of batches.slice(1)) await strategy.step([slice(batch)], LR);
        return { norm: first.gradNorm, grads, params: await strategy.fullParameters(), name: strategy.name };
      });
      const ref = reference(kind, spec.dp * spec.microBatches);
      for (const o of out) {
        expect(o.name).toContain('×tp');
        expect(Math.abs(o.norm - ref.norm) / ref.norm).toBeLessThan(1e-5);
        expectGradsClose(o.grads, ref.grads);
        expect(maxAbsDiff(o.params, ref.params)).toBeLessThan(0.05 * LR * STEPS);
      }
      console.log(`${text} (${kind}): gradient norm ${out[0].norm.toFixed(6)} vs ${ref.norm.toFixed(6)}; max |Δparam| vs one worker after ${STEPS} steps = ${maxAbsDiff(out[0].params, ref.params).toExponential(2)}`);
    });
  }
});

describe('3D parallelism over tcp', () => {
  it('pp=2 × tp=2: 4 tcp processes on loopback give the losses of the threads backend (runParallelTraining end to end)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lmkit-3d-'));
    await writeShard(join(dir, 'train_000000.bin'), Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 3)) % 64));
    await writeShard(join(dir, 'val_000000.bin'), Array.from({ length: 200 }, (_, i) => i % 64));
    const script = await bundleForTest(new URL('../../test/fixtures/train-worker.ts', import.meta.url), join(dir, 'worker.mjs'));
    const specText = 'pp=2,tp=2,mb=2';
    const dataset = await openTokenDataset(dir);
    const threads = await runInProcess(4, async (comm, r) => {
      const losses: number[] = [];
      await runParallelTraining({ comm, spec: parseParallelSpec(specText), model: smallGpt(7 + r), dataset, objective: causalLm(), steps: 3, batchSize: 4, seqLen: 16, schedule: { maxLr: 1e-3 }, onStep: (s) => losses.push(s.loss) });
      return losses;
    });
    const runs = await spawnRanks(script, 4, { args: [dir, specText], masterPort: await freePort() });
    runs.forEach((run, r) => {
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim()) as { losses: number[] };
      expect(out.losses).toEqual(threads[r]);
      expect(out.losses.every(Number.isFinite)).toBe(true);
    });
  });
});
