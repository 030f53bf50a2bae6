// Writes lmkit-saved GPT-2 and LLaMA directories (plus lmkit's logits) for `scripts/make_fixtures.py --check`,
// which loads them into PyTorch models with Hugging Face names using strict state-dict loading.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecoderLM, floatEntry, intEntry, saveModel, writeSafetensors } from '../src/index.js';
import { slice } from '@lmkit/tensor';
import { ids } from './helpers.js';

const OUT = process.env.LMKIT_EXPORT_CHECK_DIR;

describe('export for the PyTorch load check', () => {
  // Skipped unless LMKIT_EXPORT_CHECK_DIR is set: the check itself needs PyTorch, which CI does not have.
  it.skipIf(!OUT)('saves gpt2 and llama directories with reference logits', async () => {
    const configs = {
      gpt2: { model_type: 'gpt2', vocab_size: 70, pad_vocab_multiple: 64, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 16, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
      llama: { model_type: 'llama', vocab_size: 70, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16 },
    } as const;
    for (const [name, config] of Object.entries(configs)) {
      const model = new DecoderLM(config, { seed: 9 }).eval();
      const input = ids([[1, 5, 9, 2, 7, 3], [4, 4, 8, 0, 69, 6]]);
      const dir = join(OUT!, name);
      await saveModel(model, dir);
      // config.json and the weights carry the real vocabulary (70), so PyTorch's logits have 70 columns.
      const logits = slice(model.forward(input), 2, 0, model.spec.realVocabSize);
      await writeSafetensors(join(dir, 'check.safetensors'), {
        input_ids: intEntry(input.data() as Int32Array, [2, 6], 'I64'),
        logits: floatEntry(logits.data() as Float32Array, [...logits.shape]),
      });
      expect(logits.shape[2]).toBe(70);
    }
  });
});
