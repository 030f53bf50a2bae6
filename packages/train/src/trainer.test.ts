import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BigramModel } from '../test/bigram-model.js';
import { writeShard } from '../test/helpers.js';
import { openTokenDataset } from './data/token-dataset.js';
import { readMetricsText } from './metrics/metrics-log.js';
import { causalLm } from './objectives/causal-lm.js';
import { maskedLm } from './objectives/masked-lm.js';
import { roundToFormat } from './precision/float-formats.js';
import { train, type TrainerOptions } from './trainer.js';

const V = 32;

async function dataset() {
  const dir = await mkdtemp(join(tmpdir(), 'lmkit-trainer-'));
  // a noisy cyclic sequence: after x usually comes x+1
  let x = 0;
  let s = 7;
  const tokens = Array.from({ length: 20000 }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    x = s % 10 === 0 ? s % (V - 1) : (x + 1) % (V - 1);
    return x;
  });
  await writeShard(join(dir, 'train_000.bin'), tokens);
  return openTokenDataset(dir);
}

const base = (over: Partial<TrainerOptions>): TrainerOptions => ({
  model: new BigramModel(V),
  objective: causalLm(),
  dataset: undefined as never,
  steps: 6,
  batchSize: 4,
  seqLen: 16,
  schedule: { maxLr: 0.05, warmupSteps: 2 },
  progress: 'silent',
  evalEvery: 3,
  ...over,
});

describe('Trainer', () => {
  it('learns, and writes checkpoint files, metrics.jsonl and report.html', async () => {
    const ds = await dataset();
    const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
    const result = await train(base({ dataset: ds, steps: 40, outDir: out, schedule: { maxLr: 0.3, warmupSteps: 2 } }));
    expect(result.steps).toBe(40);
    expect(result.metrics[0].loss).toBeGreaterThan(3.3); // ≈ ln 32
    expect(result.loss).toBeLessThan(2.5);
    expect(result.valLoss).toBeLessThan(2.5);
    expect((await readdir(join(out, 'checkpoint'))).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const lines = readMetricsText(await readFile(join(out, 'metrics.jsonl'), 'utf8'));
    expect(lines).toHaveLength(40);
    expect(lines[39]).toMatchObject({ step: 40, lr: expect.any(Number), grad_norm: expect.any(Number), tokens_per_s: expect.any(Number), mfu: expect.any(Number), val_loss: expect.any(Number) });
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  for (const variant of ['clm fp32', 'mlm bf16', 'clm fp16'] as const) {
    it(`resume gives exactly the loss an uninterrupted run has (${variant})`, async () => {
      const ds = await dataset();
      const [obj, precision] = variant.split(' ') as ['clm' | 'mlm', 'fp32' | 'bf16' | 'fp16'];
      const objective = () => (obj === 'clm' ? causalLm() : maskedLm({ maskTokenId: V - 1, dataVocabSize: V - 1 }));
      const full = await train(base({ dataset: ds, objective: objective(), precision, steps: 8 }));

      const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
      const controller = new AbortController();
      const first = await train(base({
        dataset: ds, objective: objective(), precision, steps: 8, outDir: out, signal: controller.signal,
        onStep: (r) => r.step === 3 && controller.abort(),
      }));
      expect(first.interrupted).toBe(true);
      expect(first.steps).toBe(3);
      const second = await train(base({ dataset: ds, objective: objective(), precision, steps: 8, outDir: out, resume: true, model: new BigramModel(V, 99) }));
      expect(second.steps).toBe(8);
      const a = full.metrics.map((r) => r.loss);
      const b = second.metrics.map((r) => r.loss);
      expect(b).toEqual(a); // bit-identical, including steps 1–3 kept from metrics.jsonl
      const lines = readMetricsText(await readFile(join(out, 'metrics.jsonl'), 'utf8'));
      expect(lines.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });
  }

  it('resume with a larger steps extends the run; a smaller one is refused naming the field', async () => {
    const ds = await dataset();
    const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
    await train(base({ dataset: ds, steps: 3, outDir: out }));
    const more = await train(base({ dataset: ds, steps: 5, outDir: out, resume: true }));
    expect(more.steps).toBe(5);
    expect(more.metrics.map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    await expect(train(base({ dataset: ds, steps: 4, outDir: out, resume: true }))).rejects.toThrow(/at step 5; steps = 4/);
  });

  it('steps bounds a run laid out on a longer schedule, and resuming to the end matches one run', async () => {
    const ds = await dataset();
    const schedule = { maxLr: 0.05, warmupSteps: 2, totalSteps: 8 };
    const straight = await train(base({ dataset: ds, steps: 8, schedule }));
    const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
    const first = await train(base({ dataset: ds, steps: 4, schedule, outDir: out }));
    expect(first.steps).toBe(4);
    const resumed = await train(base({ dataset: ds, steps: 8, schedule, outDir: out, resume: true }));
    expect(resumed.metrics.map((r) => r.loss)).toEqual(straight.metrics.map((r) => r.loss));
  });

  it('gradient accumulation 2 × 4 equals one batch of 8', async () => {
    const ds = await dataset();
    const big = new BigramModel(V);
    const acc = new BigramModel(V);
    await train(base({ dataset: ds, model: big, batchSize: 8, steps: 3, optimizer: { betas: [0.9, 0.95] } }));
    await train(base({ dataset: ds, model: acc, batchSize: 4, gradAccumSteps: 2, steps: 3 }));
    let maxDiff = 0;
    for (let i = 0; i < big.w.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(big.w.data[i] - acc.w.data[i]));
    // NOTE: same windows, same targets; only the float32 summation order of gradients differs. lr 0.05 × 3 steps.
    expect(maxDiff).toBeLessThan(2e-5);
    expect(maxDiff).toBeGreaterThanOrEqual(0);
  });

  it('fp16: an overflowing step is skipped, params stay, the scale halves and metrics say so', async () => {
    const ds = await dataset();
    const model = new BigramModel(V);
    const before = model.w.data.slice();
    const result = await train(base({ dataset: ds, model, precision: 'fp16', steps: 2, lossScaler: { initScale: 2 ** 40 } }));
    expect(result.metrics[0]).toMatchObject({ step: 1, skipped: true, loss_scale: 2 ** 39 });
    expect(result.metrics[0].grad_norm).toBeUndefined();
    // every skipped step leaves the (f16-rounded) weights as they were
    const rounded = before.map((x) => roundToFormat(x, 'f16'));
    expect(Array.from(model.w.data)).toEqual(Array.from(rounded));
    const ok = await train(base({ dataset: ds, model: new BigramModel(V), precision: 'fp16', steps: 2 }));
    expect(ok.metrics.every((r) => !r.skipped && r.loss_scale === 65536)).toBe(true);
  });

  it('bf16: model weights are bf16 values, masters stay fp32', async () => {
    const ds = await dataset();
    const model = new BigramModel(V);
    await train(base({ dataset: ds, model, precision: 'bf16', steps: 3 }));
    for (const x of model.w.data) expect(roundToFormat(x, 'bf16')).toBe(x);
  });

  it('a NaN loss stops the run naming the step and the last good checkpoint', async () => {
    const ds = await dataset();
    const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
    const run = train(base({ dataset: ds, model: new BigramModel(V, 0, 5), steps: 10, outDir: out, checkpointEvery: 2 }));
    await expect(run).rejects.toMatchObject({
      code: 'TRAIN_NONFINITE_LOSS',
      message: expect.stringMatching(/NaN at step 5; the last good checkpoint is .*checkpoint \(step 4\)/),
      details: { step: 5, checkpointStep: 4 },
    });
  });

  it('rejects bad options naming the field, and resume without a checkpoint', async () => {
    const ds = await dataset();
    await expect(train(base({ dataset: ds, batchSize: 0 }))).rejects.toThrow(/batchSize/);
    await expect(train(base({ dataset: ds, seqLen: 100000 }))).rejects.toMatchObject({ code: 'TRAIN_DATA_TOO_SMALL' });
    const out = await mkdtemp(join(tmpdir(), 'lmkit-trainer-out-'));
    await expect(train(base({ dataset: ds, outDir: out, resume: true }))).rejects.toMatchObject({ code: 'TRAIN_BAD_CHECKPOINT' });
  });
});

describe('Trainer time budget', () => {
  it('fits the schedule to the budget and stops near it', async () => {
    const ds = await dataset();
    const slow = new BigramModel(V);
    const inner = slow.lossAndBackward.bind(slow);
    slow.lossAndBackward = (batch, options) => {
      const until = performance.now() + 20; // ~20 ms per step
      while (performance.now() < until);
      return inner(batch, options);
    };
    const result = await train(base({ dataset: ds, model: slow, steps: 10_000, timeBudgetSeconds: 0.6, evalEvery: 0 }));
    // NOTE: wide margins: this depends on wall-clock time on a shared machine. Unfitted, the run would
    // stop at ~30 of 10 000 steps with the LR still at its peak (0.05).
    expect(result.steps).toBeGreaterThan(9);
    expect(result.steps).toBeLessThan(200);
    expect(result.metrics.at(-1)!.lr).toBeLessThan(0.02);
  });
});
