// Tests of the Module base (names, state dicts, modes) and the shapes and values of the basic layers.
import { describe, expect, it } from 'vitest';
import { createRng, randn, tensor } from '@lmkit/tensor';
import { ids } from '../test/helpers.js';
import { DecoderLM } from './decoder-lm.js';
import { Attention } from './modules/attention.js';
import { Dropout } from './modules/dropout.js';
import { Embedding } from './modules/embedding.js';
import { LayerNorm } from './modules/layer-norm.js';
import { Linear } from './modules/linear.js';
import { MLP } from './modules/mlp.js';
import { RMSNorm } from './modules/rms-norm.js';

const rng = createRng(7);

describe('module shapes', () => {
  it('Linear, Embedding, norms and MLPs map shapes as documented', () => {
    const x = randn([2, 3, 8], { rng });
    const lin = new Linear(8, 5);
    expect([...lin.forward(x).shape]).toEqual([2, 3, 5]);
    expect(lin.namedParameters().map(([n, p]) => [n, [...p.shape]])).toEqual([['weight', [5, 8]], ['bias', [5]]]);
    expect(new Linear(8, 5, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect([...new Embedding(10, 4).forward(ids([[1, 2, 3]])).shape]).toEqual([1, 3, 4]);
    expect([...new LayerNorm(8).forward(x).shape]).toEqual([2, 3, 8]);
    expect([...new RMSNorm(8).forward(x).shape]).toEqual([2, 3, 8]);
    const swiglu = new MLP({ dModel: 8, dFf: 12, kind: 'swiglu', bias: false });
    expect(swiglu.namedParameters().map(([n, p]) => [n, [...p.shape]])).toEqual([['fc.weight', [24, 8]], ['proj.weight', [8, 12]]]);
    expect([...swiglu.forward(x).shape]).toEqual([2, 3, 8]);
    for (const nKvHead of [4, 2, 1]) {
      const attn = new Attention({ dModel: 8, nHead: 4, nKvHead, positions: 'rope' });
      expect([...attn.qkv.weight.shape]).toEqual([(4 + 2 * nKvHead) * 2, 8]);
      expect([...attn.forward(x).shape]).toEqual([2, 3, 8]);
    }
  });

  it('Linear computes x·Wᵀ + b', () => {
    const lin = new Linear(2, 3);
    lin.loadStateDict(new Map([['weight', { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [3, 2] }], ['bias', { data: Float32Array.from([0.5, 0, -1]), shape: [3] }]]));
    expect(Array.from(lin.forward(tensor([[1, -1]])).data())).toEqual([-0.5, -1, -2]);
  });

  it('RMSNorm and LayerNorm normalize the last dim', () => {
    const x = tensor([[3, 4]]);
    const rms = Array.from(new RMSNorm(2, { eps: 0 }).forward(x).data());
    const r = Math.sqrt((9 + 16) / 2);
    expect(rms[0]).toBeCloseTo(3 / r, 6);
    expect(rms[1]).toBeCloseTo(4 / r, 6);
    const ln = Array.from(new LayerNorm(2, { eps: 0 }).forward(x).data());
    expect(ln[0]).toBeCloseTo(-1, 6);
    expect(ln[1]).toBeCloseTo(1, 6);
  });
});

describe('state dicts', () => {
  const config = { model_type: 'llama', vocab_size: 20, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16 } as const;

  it('names parameters like PyTorch and round-trips in place', () => {
    const a = new DecoderLM(config, { seed: 1 });
    const b = new DecoderLM(config, { seed: 2 });
    expect(a.namedParameters().map(([n]) => n).slice(0, 6)).toEqual([
      'embed.weight', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.proj.weight', 'blocks.0.norm2.weight', 'blocks.0.mlp.fc.weight',
    ]);
    const input = ids([[1, 2, 3, 4]]);
    const before = b.parameters()[0]!;
    expect(Array.from(a.forward(input).data())).not.toEqual(Array.from(b.forward(input).data()));
    b.loadStateDict(a.stateDict());
    expect(b.parameters()[0]).toBe(before); // written in place: optimizers keep their references
    expect(Array.from(b.forward(input).data())).toEqual(Array.from(a.forward(input).data()));
  });

  it('strict loading names missing, unexpected and mis-shaped keys', () => {
    const model = new DecoderLM(config);
    const state = new Map<string, { data: Float32Array; shape: number[] }>(model.namedParameters().map(([n, p]) => [n, { data: p.data() as Float32Array, shape: [...p.shape] }]));
    const missing = new Map(state);
    missing.delete('blocks.1.mlp.proj.weight');
    missing.set('blocks.9.extra', { data: new Float32Array(1), shape: [1] });
    expect(() => model.loadStateDict(missing, { source: 'ckpt' })).toThrow(/ckpt: missing keys: blocks\.1\.mlp\.proj\.weight; unexpected keys: blocks\.9\.extra/);
    expect(() => model.loadStateDict(missing, { strict: false })).not.toThrow();
    const wrong = new Map(state);
    wrong.set('embed.weight', { data: new Float32Array(21 * 16), shape: [21, 16] });
    expect(() => model.loadStateDict(wrong)).toThrow(/"embed\.weight" has shape \[21,16\], the model expects \[20,16\]/);
  });

  it('train/eval mode switches dropout', () => {
    const drop = new Dropout(0.5, createRng(3));
    const x = tensor(new Float32Array(1000).fill(1), [1000]);
    const trained = Array.from(drop.forward(x).data());
    expect(trained.filter((v) => v === 0).length).toBeGreaterThan(400);
    expect(trained.filter((v) => v === 0).length).toBeLessThan(600);
    expect(trained.filter((v) => v !== 0).every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
    drop.eval();
    expect(Array.from(drop.forward(x).data()).every((v) => v === 1)).toBe(true);
    const model = new DecoderLM({ ...config, hidden_dropout: 0.1 }).eval();
    expect(model.blocks.items[0]!.training).toBe(false);
    expect(model.train().blocks.items[1]!.attn.training).toBe(true);
  });
});
