// Tests of config validation: HF defaults, accepted hub keys, errors naming the field; countParams and flopsPerToken.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countParams, flopsPerToken } from './flops.js';
import { getPreset, PRESETS } from './presets/index.js';
import { resolveConfig } from './resolve-config.js';

const expectError = (fn: () => unknown, code: string, pattern: RegExp, field?: string): void => {
  try {
    fn();
  } catch (error) {
    const e = error as { code: string; message: string; details?: { field?: string } };
    expect(e.code).toBe(code);
    expect(e.message).toMatch(pattern);
    if (field) expect(e.details?.field).toBe(field);
    return;
  }
  throw new Error('expected an error');
};

describe('resolveConfig', () => {
  it('fills HF defaults and pads the vocabulary', () => {
    const { config, spec } = resolveConfig(getPreset('gpt2-124m'));
    expect(config).toMatchObject({ vocab_size: 50257, pad_vocab_multiple: 64, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', tie_word_embeddings: true });
    expect(spec).toMatchObject({ family: 'gpt2', vocabSize: 50304, realVocabSize: 50257, dModel: 768, nHead: 12, nKvHead: 12, headDim: 64, dFf: 3072, norm: 'layernorm', mlp: 'gelu_tanh', causal: true });
    const llama = resolveConfig({ model_type: 'llama', hidden_size: 64, num_attention_heads: 8, num_key_value_heads: 2, intermediate_size: 128, num_hidden_layers: 2, vocab_size: 100 }).spec;
    expect(llama).toMatchObject({ family: 'llama', norm: 'rmsnorm', normEps: 1e-6, positions: 'rope', mlp: 'swiglu', nKvHead: 2, headDim: 8, tieEmbeddings: false, attnBias: false });
    expect(resolveConfig({ model_type: 'mixtral', hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 16 }).spec.moe).toEqual({ numExperts: 8, topK: 2, auxLossCoef: 0.001 });
  });

  it('accepts the config.json keys transformers writes', () => {
    const hub = {
      activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 50256, embd_pdrop: 0.1, eos_token_id: 50256,
      initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, n_positions: 1024,
      resid_pdrop: 0.1, summary_activation: null, summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
      summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } }, vocab_size: 50257,
      scale_attn_weights: true, use_cache: true, transformers_version: '4.40.0',
    };
    expect(countParams(resolveConfig(hub).spec)).toBe(124_439_808);
    const fixture = JSON.parse(readFileSync(new URL('../test/fixtures/llama-tiny/config.json', import.meta.url), 'utf8'));
    expect(resolveConfig(fixture).spec.nKvHead).toBe(2);
  });

  it('rejects unknown keys, bad values and impossible shapes naming the field', () => {
    expectError(() => resolveConfig({ model_type: 'gpt2', n_embed: 64 }, 'my.json'), 'MODEL_BAD_CONFIG', /my\.json: n_embed: unknown field/, 'n_embed');
    expectError(() => resolveConfig({ model_type: 'gpt2', n_embd: 100, n_head: 12 }), 'MODEL_BAD_CONFIG', /n_head: 12 heads do not divide n_embd 100/, 'n_head');
    expectError(() => resolveConfig({ model_type: 'llama', hidden_size: 64, num_attention_heads: 8, num_key_value_heads: 3 }), 'MODEL_BAD_CONFIG', /3 key\/value heads do not divide num_attention_heads 8/, 'num_key_value_heads');
    expectError(() => resolveConfig({ model_type: 'gpt2', n_layer: 0 }), 'MODEL_BAD_CONFIG', /n_layer: got 0, expected an integer ≥ 1/);
    expectError(() => resolveConfig({ model_type: 'gpt2', resid_pdrop: 1 }), 'MODEL_BAD_CONFIG', /resid_pdrop/);
    expectError(() => resolveConfig({ model_type: 'gpt2', position_embedding: 'sinusoidal' }), 'MODEL_BAD_CONFIG', /position_embedding: got "sinusoidal"/);
    expectError(() => resolveConfig({ model_type: 'gpt2', scale_attn_by_inverse_layer_idx: true }), 'MODEL_BAD_CONFIG', /scale_attn_by_inverse_layer_idx/);
    expectError(() => resolveConfig({ model_type: 'gpt2', n_embd: 36, n_head: 4, position_embedding: 'rope' }), 'MODEL_BAD_CONFIG', /even head size/);
    expectError(() => resolveConfig({ model_type: 'llama', num_local_experts: 2, num_experts_per_tok: 3 }), 'MODEL_BAD_CONFIG', /num_experts_per_tok: 3 exceeds/);
    expectError(() => resolveConfig({ model_type: 'bert' }), 'MODEL_UNKNOWN_TYPE', /"bert" is not a known model type/, 'model_type');
    expectError(() => resolveConfig([1]), 'MODEL_BAD_CONFIG', /expected a JSON object, got an array/);
    expectError(() => getPreset('huge'), 'MODEL_BAD_CONFIG', /unknown preset "huge"/);
  });

  it('every preset is valid', () => {
    for (const name of Object.keys(PRESETS)) expect(() => resolveConfig(getPreset(name), name)).not.toThrow();
  });
});

describe('countParams and flopsPerToken', () => {
  it('matches GPT-2 124M and nanoGPT estimate_mfu', () => {
    const spec = resolveConfig(getPreset('gpt2-124m')).spec;
    expect(countParams(spec)).toBe(124_475_904); // nanoGPT with vocab 50304
    expect(countParams(spec, { nonEmbedding: true })).toBe(124_475_904 - 1024 * 768);
    // nanoGPT: 6N + 12·L·H·Q·T with N = get_num_params() (non-embedding)
    expect(flopsPerToken(spec, 1024)).toBe(6 * (124_475_904 - 786_432) + 12 * 12 * 12 * 64 * 1024);
  });
  it('counts only the active experts for MoE FLOPs', () => {
    const spec = resolveConfig({ model_type: 'mixtral', hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 16, vocab_size: 10, num_local_experts: 4, num_experts_per_tok: 1 }).spec;
    const all = countParams(spec);
    const active = countParams(spec, { activeOnly: true });
    expect(all - active).toBe(3 * 3 * 32 * 16);
  });
});
