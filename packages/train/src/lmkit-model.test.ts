import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createModel, entryToFloat32, entryToInt32, loadModel, readSafetensors } from '@lmkit/model';
import { writeShard } from '../test/helpers.js';
import { openTokenDataset } from './data/token-dataset.js';
import { fromLmkitModel } from './lmkit-model.js';
import { causalLm } from './objectives/causal-lm.js';
import { AdamW } from './optim/adamw.js';
import { clipGradNorm } from './optim/clip-grad-norm.js';
import { train } from './trainer.js';

// The PyTorch fixture written by packages/model/scripts/make_fixtures.py (float64 reference).
const fixtureDir = fileURLToPath(new URL('../../model/test/fixtures/gpt2-tiny', import.meta.url));

describe('training an @lmkit/model GPT-2 against PyTorch', () => {
  it('3 AdamW steps with clipping match torch (loss, grad norm, parameters)', async () => {
    const ref = await readSafetensors(join(fixtureDir, 'reference.safetensors'));
    const meta = ref.metadata;
    const model = fromLmkitModel(await loadModel(fixtureDir));
    const ids = entryToInt32(ref.tensors.get('input_ids')!);
    const targets = entryToInt32(ref.tensors.get('targets')!);
    const [B, T] = ref.tensors.get('input_ids')!.shape;
    const batch = { inputIds: ids, targets, batchSize: B, seqLen: T, targetCount: B * T };
    const params = model.parameters();
    const opt = new AdamW(params.map((p) => ({ name: p.name, shape: p.shape, data: p.data, grad: p.grad })), {
      betas: [Number(meta.adamw_beta1), Number(meta.adamw_beta2)], eps: Number(meta.adamw_eps), weightDecay: Number(meta.adamw_weight_decay),
    });
    const wantLoss = entryToFloat32(ref.tensors.get('adamw.loss')!);
    const wantNorm = entryToFloat32(ref.tensors.get('adamw.grad_norm')!);
    for (let k = 0; k < Number(meta.adamw_steps); k++) {
      model.zeroGrad();
      const loss = model.lossAndBackward(batch, { lossScale: 1 });
      const norm = clipGradNorm(params.map((p) => p.grad), Number(meta.adamw_clip));
      expect(Math.abs(loss - wantLoss[k]) / wantLoss[k], `loss at step ${k}`).toBeLessThan(1e-5);
      expect(Math.abs(norm - wantNorm[k]) / wantNorm[k], `grad norm at step ${k}`).toBeLessThan(1e-4);
      opt.step(Number(meta.adamw_lr));
      model.syncParameters?.();
    }
    // NOTE: fp32 here vs float64 in torch; Adam turns tiny gradient differences into ±lr·steps where |g| ≈ 0,
    // so parameters are compared with atol 2e-4 (0.7% of lr·steps = 3e-2).
    let worst = 0;
    for (const [name, w] of model.exportWeights!()) {
      const want = entryToFloat32(ref.tensors.get(`adamw.${name}`)!, name);
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(w.data[i] - want[i]));
    }
    expect(worst).toBeLessThan(2e-4);
  });
});

describe('Trainer with an @lmkit/model GPT', () => {
  it('loss falls on a repeated pattern and a resumed run continues exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-train-gpt-'));
    await writeShard(join(dir, 'train.bin'), Array.from({ length: 6000 }, (_, i) => [3, 1, 4, 1, 5, 9, 2, 6][i % 8] + (i % 24 < 8 ? 10 : 0)));
    const ds = await openTokenDataset(dir);
    const config = { model_type: 'gpt2' as const, vocab_size: 32, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
    const opts = { objective: causalLm(), dataset: ds, steps: 6, batchSize: 4, seqLen: 16, schedule: { maxLr: 1e-2, warmupSteps: 1 }, progress: 'silent' as const, evalEvery: 0 };
    const full = await train({ ...opts, model: fromLmkitModel(createModel(config, { seed: 1 })) });
    expect(full.metrics[5].loss!).toBeLessThan(full.metrics[0].loss! - 0.5);

    const out = await mkdtemp(join(tmpdir(), 'lmkit-train-gpt-out-'));
    const controller = new AbortController();
    await train({ ...opts, model: fromLmkitModel(createModel(config, { seed: 1 })), outDir: out, signal: controller.signal, onStep: (r) => r.step === 2 && controller.abort() });
    const resumed = await train({ ...opts, model: fromLmkitModel(createModel(config, { seed: 7 })), outDir: out, resume: true });
    expect(resumed.metrics.map((r) => r.loss)).toEqual(full.metrics.map((r) => r.loss));
    // the checkpoint loads back as a model (HF names + config.json)
    const loaded = await loadModel(join(out, 'checkpoint'));
    expect(loaded.namedParameters().length).toBeGreaterThan(0);
  });
});

describe('exported weights', () => {
  it('hold the real vocabulary rows (config.json vocab_size) when the model pads its vocab, and load back padded', () => {
    const config = { model_type: 'gpt2' as const, vocab_size: 50, pad_vocab_multiple: 64, n_positions: 8, n_embd: 16, n_layer: 1, n_head: 2 };
    const lm = createModel(config, { seed: 2 });
    expect(lm.spec.vocabSize).toBe(64);
    const weights = fromLmkitModel(lm).exportWeights!();
    const wte = [...weights].find(([name]) => name.endsWith('wte.weight'));
    expect(wte, 'the embedding is exported').toBeDefined();
    expect(wte![1].shape).toEqual([50, 16]);
  });
});

describe('gradient checkpointing', () => {
  it('gives the same loss and gradients as a plain backward, and refuses models with dropout', async () => {
    const config = { model_type: 'gpt2' as const, vocab_size: 48, n_positions: 16, n_embd: 32, n_layer: 3, n_head: 4, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
    const plain = fromLmkitModel(createModel(config, { seed: 3 }));
    const recompute = fromLmkitModel(createModel(config, { seed: 3 }), { gradientCheckpointing: true });
    const ids = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 48);
    const targets = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7 + 3) % 48);
    const batch = { inputIds: ids, targets, batchSize: 2, seqLen: 16, targetCount: 32 };
    for (const m of [plain, recompute]) m.zeroGrad();
    const a = plain.lossAndBackward(batch, { lossScale: 0.5 });
    const b = recompute.lossAndBackward(batch, { lossScale: 0.5 });
    expect(b).toBeCloseTo(a, 6);
    const pa = plain.parameters();
    const pb = recompute.parameters();
    let worst = 0;
    let scale = 0;
    pa.forEach((p, k) => p.grad.forEach((g, i) => ((worst = Math.max(worst, Math.abs(g - pb[k].grad[i]))), (scale = Math.max(scale, Math.abs(g))))));
    expect(scale).toBeGreaterThan(1e-3);
    expect(worst).toBeLessThan(1e-6);
    expect(() => fromLmkitModel(createModel({ ...config, resid_pdrop: 0.1 }), { gradientCheckpointing: true })).toThrow(/dropout/);
  });
});

describe('gradient accumulation with an @lmkit/model GPT', () => {
  it('2 micro-batches × loss/2 give the gradient of the whole batch', () => {
    const config = { model_type: 'gpt2' as const, vocab_size: 40, n_positions: 8, n_embd: 16, n_layer: 2, n_head: 2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 };
    const whole = fromLmkitModel(createModel(config, { seed: 5 }));
    const accum = fromLmkitModel(createModel(config, { seed: 5 }));
    const ids = Int32Array.from({ length: 4 * 8 }, (_, i) => (i * 11 + 3) % 40);
    const targets = Int32Array.from({ length: 4 * 8 }, (_, i) => (i * 13 + 1) % 40);
    const batch = (from: number, n: number) => ({ inputIds: ids.slice(from * 8, (from + n) * 8), targets: targets.slice(from * 8, (from + n) * 8), batchSize: n, seqLen: 8, targetCount: n * 8 });
    whole.zeroGrad();
    accum.zeroGrad();
    const lossWhole = whole.lossAndBackward(batch(0, 4), { lossScale: 1 });
    const lossA = accum.lossAndBackward(batch(0, 2), { lossScale: 0.5 });
    const lossB = accum.lossAndBackward(batch(2, 2), { lossScale: 0.5 });
    expect((lossA + lossB) / 2).toBeCloseTo(lossWhole, 5);
    // NOTE: only the float32 summation order differs; compare relative to the largest gradient (reference: rtol ~1e-6).
    const a = whole.parameters();
    const b = accum.parameters();
    let worst = 0;
    let scale = 0;
    a.forEach((p, k) => p.grad.forEach((g, i) => ((worst = Math.max(worst, Math.abs(g - b[k].grad[i]))), (scale = Math.max(scale, Math.abs(g))))));
    expect(scale).toBeGreaterThan(1e-3);
    expect(worst / scale).toBeLessThan(1e-5);
  });
});
