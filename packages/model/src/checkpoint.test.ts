// Tests of saveModel/loadModel: Hugging Face names and layouts, round trips, hub-style files, and error messages.
import { mkdtemp, readFile, readdir, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectClose, ids } from '../test/helpers.js';
import { loadModel, saveModel } from './checkpoint.js';
import { DecoderLM } from './decoder-lm.js';
import { EncoderLM } from './encoder-lm.js';
import { toHuggingFace } from './hf-names.js';
import { floatEntry, readSafetensors, writeSafetensors, entryToFloat32 } from './safetensors.js';

const FIXTURES = new URL('../test/fixtures/', import.meta.url).pathname;
const gpt2 = { model_type: 'gpt2', vocab_size: 50, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 12, pad_vocab_multiple: 64, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 } as const;
const input = ids([[1, 2, 3, 4, 5], [9, 8, 7, 6, 5]]);

// The logits of the real vocabulary ids / of the padding ids, from row-major (…, padded).
function realColumns(logits: ArrayLike<number>, padded: number, real: number): number[] {
  return Array.from(logits).filter((_, i) => i % padded < real);
}
function padColumns(logits: ArrayLike<number>, padded: number, real: number): number[] {
  return Array.from(logits).filter((_, i) => i % padded >= real);
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lmkit-model-'));
}

describe('saveModel / loadModel', () => {
  it('writes the layout transformers GPT2LMHeadModel loads: Conv1D (in, out), no lm_head, config.json', async () => {
    const model = new DecoderLM(gpt2, { seed: 5 });
    const dir = await tempDir();
    await saveModel(model, dir);
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
    const file = await readSafetensors(join(dir, 'model.safetensors'));
    expect(file.metadata.format).toBe('pt');
    const shapes = Object.fromEntries([...file.tensors].map(([n, e]) => [n, e.shape]));
    expect(shapes['transformer.wte.weight']).toEqual([50, 16]); // the real vocab's rows (the model pads to 64)
    expect(shapes['transformer.wpe.weight']).toEqual([12, 16]);
    expect(shapes['transformer.h.0.attn.c_attn.weight']).toEqual([16, 48]); // (in, out)
    expect(shapes['transformer.h.0.attn.c_attn.bias']).toEqual([48]);
    expect(shapes['transformer.h.1.mlp.c_fc.weight']).toEqual([16, 64]);
    expect(shapes['transformer.h.1.mlp.c_proj.weight']).toEqual([64, 16]);
    expect(shapes['transformer.ln_f.bias']).toEqual([16]);
    expect('lm_head.weight' in shapes).toBe(false);
    expect(Object.keys(shapes)).toHaveLength(2 + 2 * 12 + 2);
    // Conv1D stores Wᵀ: c_attn[i][j] = qkv.weight[j][i]
    const ours = model.blocks.items[0]!.attn.qkv.weight.data();
    const hf = entryToFloat32(file.tensors.get('transformer.h.0.attn.c_attn.weight')!);
    expect(hf[3 * 48 + 7]).toBe(ours[7 * 16 + 3]);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: 50, pad_vocab_multiple: 64, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 12, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, torch_dtype: 'float32' });

    const loaded = await loadModel(dir);
    expect(loaded).toBeInstanceOf(DecoderLM);
    expect(loaded.spec).toMatchObject({ vocabSize: 64, realVocabSize: 50 });
    expect(realColumns(loaded.eval().forward(input).data(), 64, 50)).toEqual(realColumns(model.eval().forward(input).data(), 64, 50));
  });

  it('round-trips LLaMA (split q/k/v, gate/up), Mixtral experts, an encoder, and bf16 storage', async () => {
    const configs = [
      { model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 8 },
      { model_type: 'llama', vocab_size: 40, hidden_size: 16, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 4, num_local_experts: 3, max_position_embeddings: 8 },
      { model_type: 'lmkit-encoder', vocab_size: 40, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 8, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
    ] as const;
    for (const config of configs) {
      const model = config.model_type === 'lmkit-encoder' ? new EncoderLM(config, { seed: 2 }) : new DecoderLM(config, { seed: 2 });
      const dir = await tempDir();
      await saveModel(model, dir);
      const names = [...(await readSafetensors(join(dir, 'model.safetensors'))).tensors.keys()];
      if (config.model_type === 'llama' && !('num_local_experts' in config)) {
        expect(names).toContain('model.layers.1.self_attn.k_proj.weight');
        expect(names).toContain('model.layers.0.mlp.gate_proj.weight');
        expect(names).toContain('lm_head.weight');
      }
      if ('num_local_experts' in config) {
        expect(names).toContain('model.layers.0.block_sparse_moe.experts.2.w3.weight');
        expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'mixtral', architectures: ['MixtralForCausalLM'] });
      }
      const loaded = await loadModel(dir);
      expect(Array.from(loaded.eval().forward(input).data())).toEqual(Array.from(model.eval().forward(input).data()));

      await saveModel(model, dir, { dtype: 'BF16' });
      const half = await loadModel(dir);
      expectClose(half.eval().forward(input).data(), model.forward(input).data(), 0.05, 0.05, `${config.model_type} bf16 logits`);
    }
  });

  it('saves the real vocab in config.json and weights, pads on load, and still loads padded (older) checkpoints', async () => {
    const llama = { model_type: 'llama', vocab_size: 37, pad_vocab_multiple: 16, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 4, max_position_embeddings: 8 } as const;
    const model = new DecoderLM(llama, { seed: 3 });
    const dir = await tempDir();
    await saveModel(model, dir);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ vocab_size: 37, pad_vocab_multiple: 16 });
    const file = await readSafetensors(join(dir, 'model.safetensors'));
    expect(file.tensors.get('model.embed_tokens.weight')!.shape).toEqual([37, 16]);
    expect(file.tensors.get('lm_head.weight')!.shape).toEqual([37, 16]); // an untied head is cut the same way
    const loaded = await loadModel(dir);
    expect(loaded.spec).toMatchObject({ vocabSize: 48, realVocabSize: 37 });
    const logits = loaded.eval().forward(input).data();
    expect(realColumns(logits, 48, 37)).toEqual(realColumns(model.eval().forward(input).data(), 48, 37));
    expect(new Set(padColumns(logits, 48, 37))).toEqual(new Set([0])); // zero padding rows of the untied head
    // Saving the loaded model again writes the same bytes.
    const again = await tempDir();
    await saveModel(loaded, again);
    expect(await readFile(join(again, 'model.safetensors'))).toEqual(await readFile(join(dir, 'model.safetensors')));

    // A checkpoint written before the real size was saved: vocab_size is the padded 48 and the weights have 48 rows.
    const old = await tempDir();
    const full = new Map([...model.namedParameters()].map(([n, p]) => [n, { data: p.data() as Float32Array, shape: [...p.shape] }]));
    await writeSafetensors(join(old, 'model.safetensors'), new Map([...toHuggingFace(model.spec, full)].map(([n, a]) => [n, floatEntry(a.data, a.shape)])));
    await writeFile(join(old, 'config.json'), JSON.stringify({ ...model.config, vocab_size: 48 }));
    const legacy = await loadModel(old);
    expect(legacy.spec).toMatchObject({ vocabSize: 48, realVocabSize: 48 });
    expect(Array.from(legacy.eval().forward(input).data())).toEqual(Array.from(model.eval().forward(input).data()));
    // And a training checkpoint's layout: the real vocab_size with padded rows loads unchanged too.
    await writeFile(join(old, 'config.json'), JSON.stringify(model.config));
    const trained = await loadModel(old);
    expect(trained.spec).toMatchObject({ vocabSize: 48, realVocabSize: 37 });
    expect(Array.from(trained.eval().forward(input).data())).toEqual(Array.from(model.eval().forward(input).data()));
  });

  it('loads hub-style GPT-2 files: no "transformer." prefix, attn.bias buffers, a duplicate lm_head', async () => {
    const src = join(FIXTURES, 'gpt2-tiny');
    const file = await readSafetensors(join(src, 'model.safetensors'));
    const hub = new Map([...file.tensors].map(([n, e]) => [n.replace(/^transformer\./, ''), e]));
    hub.set('h.0.attn.bias', floatEntry(new Float32Array(16 * 16).fill(1), [1, 1, 16, 16]));
    hub.set('h.1.attn.masked_bias', floatEntry(new Float32Array([-1e4]), []));
    hub.set('lm_head.weight', file.tensors.get('transformer.wte.weight')!);
    const dir = await tempDir();
    await writeSafetensors(join(dir, 'model.safetensors'), hub);
    await copyFile(join(src, 'config.json'), join(dir, 'config.json'));
    const a = await loadModel(dir);
    const b = await loadModel(src);
    expect(Array.from(a.forward(input).data())).toEqual(Array.from(b.forward(input).data()));
  });

  it('names the problem: missing tensor, wrong shape, bad config.json', async () => {
    const src = join(FIXTURES, 'llama-tiny');
    const file = await readSafetensors(join(src, 'model.safetensors'));
    const dir = await tempDir();
    await copyFile(join(src, 'config.json'), join(dir, 'config.json'));
    const missing = new Map(file.tensors);
    missing.delete('model.layers.1.mlp.up_proj.weight');
    await writeSafetensors(join(dir, 'model.safetensors'), missing);
    await expect(loadModel(dir)).rejects.toThrow(/missing tensor "model\.layers\.1\.mlp\.up_proj\.weight"/);
    const wrong = new Map(file.tensors);
    wrong.set('model.layers.0.self_attn.k_proj.weight', floatEntry(new Float32Array(32 * 32), [32, 32]));
    await writeSafetensors(join(dir, 'model.safetensors'), wrong);
    await expect(loadModel(dir)).rejects.toThrow(/"model\.layers\.0\.self_attn\.k_proj\.weight" has shape \[32,32\], expected \[16,32\]/);
    const extra = new Map(file.tensors);
    extra.set('model.layers.7.mlp.up_proj.weight', floatEntry(new Float32Array(1), [1]));
    await writeSafetensors(join(dir, 'model.safetensors'), extra);
    await expect(loadModel(dir)).rejects.toThrow(/unexpected tensor "model\.layers\.7\.mlp\.up_proj\.weight"/);
    await writeFile(join(dir, 'config.json'), '{"model_type": "llama", "hidden_size": 32, "num_attention_heads": 5}');
    await expect(loadModel(dir)).rejects.toThrow(/config\.json: num_attention_heads: 5 heads do not divide hidden_size 32/);
    await writeFile(join(dir, 'config.json'), '{oops');
    await expect(loadModel(dir)).rejects.toThrow(/config\.json: not valid JSON/);
    await mkdir(join(dir, 'empty'));
    await expect(loadModel(join(dir, 'empty'))).rejects.toThrow(/config\.json: cannot read/);
  });
});
