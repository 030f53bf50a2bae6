import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeShard } from '../test/helpers.js';
import { modelConfigFor, validateRunConfig } from './run-config.js';
import { runTraining } from './run.js';

describe('run config', () => {
  it('rejects unknown keys and bad values naming the field', () => {
    expect(() => validateRunConfig({ stepz: 3 }, 'run.yaml')).toThrow(/run.yaml: unknown field "stepz"/);
    expect(() => validateRunConfig({ batch_size: 0 })).toThrow(/batch_size must be an integer ≥ 1, got 0/);
    expect(() => validateRunConfig({ precision: 'fp8' })).toThrow(/precision must be one of fp32, bf16, fp16/);
    expect(() => validateRunConfig({ preset: 'tiny', model: { model_type: 'gpt2' } })).toThrow(/either preset or model/);
    expect(validateRunConfig({ steps: 5, lr: 0.01 })).toEqual({ steps: 5, lr: 0.01 });
  });
  it('fits the preset vocabulary to data + objective and maps mlm to an encoder', () => {
    expect(modelConfigFor({}, 256)).toMatchObject({ model_type: 'gpt2', vocab_size: 256 });
    expect(modelConfigFor({ objective: 'span' }, 256)).toMatchObject({ vocab_size: 356, pad_vocab_multiple: 64 });
    expect(modelConfigFor({ objective: 'mlm' }, 1000)).toMatchObject({ model_type: 'lmkit-encoder', vocab_size: 1001, pad_vocab_multiple: 64, hidden_size: 128 });
    expect(() => modelConfigFor({ model: { model_type: 'gpt2', vocab_size: 100 } }, 256)).toThrow(/model.vocab_size 100 is smaller than the 256 ids/);
    expect(() => modelConfigFor({ objective: 'mlm', model: { model_type: 'gpt2' } }, 256)).toThrow(/needs an encoder/);
  });
});

describe('runTraining', () => {
  it('rejects impossible shapes before reading data', async () => {
    const missing = join(tmpdir(), 'lmkit-no-such-dir');
    await expect(runTraining({ dataDir: missing, outDir: missing, config: { seq_len: 4096 }, progress: 'silent' })).rejects.toThrow(/seq_len 4096 exceeds the model's context of 128/);
    await expect(runTraining({ dataDir: missing, outDir: missing, config: { model: { model_type: 'gpt2', n_embd: 30, n_head: 4 } }, progress: 'silent' })).rejects.toThrow(/n_head|n_embd/);
    await expect(runTraining({ dataDir: missing, outDir: missing, progress: 'silent' })).rejects.toMatchObject({ code: 'TRAIN_NO_DATA' });
  });
  for (const objective of ['clm', 'mlm', 'span'] as const) {
    it(`trains a small model end to end with ${objective}`, async () => {
      const data = await mkdtemp(join(tmpdir(), 'lmkit-run-'));
      await writeShard(join(data, 'train_000.bin'), Array.from({ length: 4000 }, (_, i) => 'hello world, '.charCodeAt(i % 13)));
      await writeShard(join(data, 'val_000.bin'), Array.from({ length: 400 }, (_, i) => 'hello world, '.charCodeAt(i % 13)));
      const out = await mkdtemp(join(tmpdir(), 'lmkit-run-out-'));
      const model = { model_type: objective === 'mlm' ? 'lmkit-encoder' : 'gpt2', vocab_size: 256, ...(objective === 'mlm' ? { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } : { n_embd: 32, n_layer: 1, n_head: 2, n_positions: 32, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }) };
      const result = await runTraining({
        dataDir: data, outDir: out, progress: 'silent',
        config: { model: model as never, objective, steps: 4, batch_size: 2, seq_len: 32, lr: 3e-3, warmup_steps: 0, eval_batches: 1, ...(objective === 'span' ? { model: { ...model, vocab_size: 384 } as never } : {}) },
      });
      expect(result.steps).toBe(4);
      expect(Number.isFinite(result.valLoss)).toBe(true);
      expect(await readdir(out)).toEqual(expect.arrayContaining(['checkpoint', 'metrics.jsonl', 'report.html']));
    });
  }
});
