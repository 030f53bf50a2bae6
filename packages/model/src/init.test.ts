// Tests of GPT-2 initialization statistics, parameter counts per config, and the encoder/decoder attention direction.
import { describe, expect, it } from 'vitest';
import { expectClose, ids } from '../test/helpers.js';
import { DecoderLM } from './decoder-lm.js';
import { EncoderLM } from './encoder-lm.js';
import { countParams } from './flops.js';
import { createModel } from './registry.js';
import { getPreset } from './presets/index.js';
import { tiny } from './presets/tiny.js';

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / values.length) };
}

describe('GPT-2 initialization', () => {
  it('N(0, 0.02) weights, residual projections scaled 1/√(2L), zero biases, unit norms, tied head', () => {
    const model = new DecoderLM({ ...tiny, n_layer: 8 }, { seed: 42 });
    const params = model.stateDict();
    const residual = 0.02 / Math.sqrt(16);
    for (const [name, p] of params) {
      const { mean, std } = stats(p.data());
      if (name.endsWith('bias')) expect(std === 0 && mean === 0, name).toBe(true);
      else if (p.shape.length === 1) expect(mean === 1 && std === 0, name).toBe(true);
      else {
        const want = /attn\.proj|mlp\.proj/.test(name) ? residual : 0.02;
        const se = want / Math.sqrt(p.size); // standard error of the mean
        expect(Math.abs(mean), name).toBeLessThan(5 * se);
        expect(Math.abs(std / want - 1), name).toBeLessThan(0.05);
      }
    }
    expect(params.has('head.weight')).toBe(false); // lm_head is wte
    expect(model.head).toBeNull();
  });

  it('is deterministic per seed', () => {
    const qkv = (seed: number): ArrayLike<number> => new DecoderLM(getPreset('tiny'), { seed }).stateDict().get('blocks.1.attn.qkv.weight')!.data();
    const [a, b, c] = [qkv(1), qkv(1), qkv(2)];
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('countParams equals the parameters the model holds', () => {
  const configs = {
    tiny: getPreset('tiny'),
    'llama-like': getPreset('llama-like'),
    'gpt2 no bias, parallel, alibi': { model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, vocab_size: 70, pad_vocab_multiple: 64, bias: false, parallel_block: true, position_embedding: 'alibi', tie_word_embeddings: false },
    mixtral: { model_type: 'mixtral', hidden_size: 32, num_attention_heads: 4, num_key_value_heads: 1, num_hidden_layers: 2, intermediate_size: 16, vocab_size: 30, num_local_experts: 4 },
    encoder: { model_type: 'lmkit-encoder', hidden_size: 32, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 64, vocab_size: 30, max_position_embeddings: 16 },
    'llama with explicit head_dim': { model_type: 'llama', hidden_size: 16, head_dim: 8, num_attention_heads: 4, num_key_value_heads: 2, num_hidden_layers: 1, intermediate_size: 24, vocab_size: 30 },
  } as const;
  for (const [name, config] of Object.entries(configs)) {
    it(`${name}, and every parameter gets a gradient`, () => {
      const model = createModel(config, { seed: 4 });
      expect(model.parameters().reduce((n, p) => n + p.size, 0)).toBe(countParams(model.spec));
      const tokens = Array.from({ length: 2 }, (_, b) => Array.from({ length: 8 }, (_, t) => (b * 7 + t * 3) % 30));
      model.loss(ids(tokens), ids(tokens.map((r) => r.map((v) => (v + 1) % 30)))).backward();
      for (const [n, p] of model.namedParameters()) expect(p.grad, n).not.toBeNull();
    });
  }
  it('tiny preset is ~0.8M parameters', () => {
    expect(countParams(createModel(getPreset('tiny')).spec)).toBe(842_496);
  });
});

describe('EncoderLM', () => {
  const config = { model_type: 'lmkit-encoder', hidden_size: 16, num_attention_heads: 4, num_hidden_layers: 2, intermediate_size: 32, vocab_size: 30, max_position_embeddings: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } as const;
  it('attends in both directions and scores only targets that are not -100', () => {
    const model = new EncoderLM(config, { seed: 1 });
    const a = model.forward(ids([[1, 2, 3, 4]])).data() as Float32Array;
    const b = model.forward(ids([[1, 2, 3, 5]])).data() as Float32Array;
    expect(Math.max(...a.subarray(0, 30).map((v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-6); // position 0 sees position 3
    const logits = model.forward(ids([[1, 2, 3, 4]]));
    const row = Array.from((logits.data() as Float32Array).subarray(30, 60));
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const loss = model.loss(ids([[1, 2, 3, 4]]), ids([[-100, 7, -100, -100]]));
    expect(loss.item()).toBeCloseTo(lse - row[7]!, 5);
    loss.backward();
    expect(model.mlmHead.bias.grad).not.toBeNull();
  });
  it('a decoder is causal: later tokens do not change earlier logits', () => {
    const model = new DecoderLM(getPreset('llama-like'), { seed: 1 });
    const a = model.forward(ids([[1, 2, 3, 4]])).data() as Float32Array;
    const b = model.forward(ids([[1, 2, 3, 9]])).data() as Float32Array;
    expectClose(a.subarray(0, 3 * 256), b.subarray(0, 3 * 256), 0, 0, 'prefix logits');
  });
  it('DecoderLM rejects an encoder config and vice versa', () => {
    expect(() => new DecoderLM(config)).toThrow(/DecoderLM needs a causal config/);
    expect(() => new EncoderLM(getPreset('tiny'))).toThrow(/EncoderLM needs an encoder config/);
  });
});
