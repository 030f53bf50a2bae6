// Tests of key padding: a padded batch gives each sequence's real tokens the outputs it gets alone (decoder and encoder).
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@lmkit/tensor';
import { expectClose, ids } from '../../test/helpers.js';
import { DecoderLM } from '../decoder-lm.js';
import { EncoderLM } from '../encoder-lm.js';
import { setExplicitScoresMax } from './attention.js';
import { KVCache } from './kv-cache.js';
import { PaddingMask } from './padding-mask.js';

const V = 32;
const decoders = {
  'llama (RoPE, GQA)': { model_type: 'llama', vocab_size: V, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32 },
  'gpt2 (learned positions)': { model_type: 'gpt2', vocab_size: V, n_embd: 16, n_layer: 2, n_head: 4, n_positions: 32, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
  'gpt2 (ALiBi, MQA-free)': { model_type: 'gpt2', vocab_size: V, n_embd: 16, n_layer: 2, n_head: 4, n_positions: 32, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, position_embedding: 'alibi' },
} as const;

const prompts = [[3, 9, 4, 1, 7, 2], [5, 11], [8, 6, 30, 2]];

/** Left-pads rows to one length with `pad`; returns ids and the (B, T) mask. */
function leftPad(rows: number[][], pad = 0): { ids: Tensor; mask: Tensor; width: number } {
  const width = Math.max(...rows.map((r) => r.length));
  const padded = rows.map((r) => [...Array<number>(width - r.length).fill(pad), ...r]);
  const mask = rows.map((r) => [...Array<number>(width - r.length).fill(0), ...Array<number>(r.length).fill(1)]);
  return { ids: ids(padded), mask: tensor(Float32Array.from(mask.flat()), [rows.length, width]), width };
}

function rowLogits(logits: Tensor, b: number, t: number): Float32Array {
  const [, T] = logits.shape as [number, number, number];
  return (logits.data() as Float32Array).slice((b * T + t) * V, (b * T + t + 1) * V);
}

describe('PaddingMask', () => {
  it('counts positions over real tokens only (left padding starts at 0)', () => {
    const m = new PaddingMask(tensor([0, 0, 1, 1, 1, 1, 1, 1, 1, 0], [2, 5]), 3, 2);
    expect(Array.from(m.positions)).toEqual([0, 1, 2, 2, 3, 3]);
  });

  it('rejects a mask of the wrong width or with values other than 0/1, naming the field', () => {
    expect(() => new PaddingMask(tensor([1, 1, 1], [1, 3]), 2, 0)).toThrow(/attentionMask has shape \[1,3\], expected \[B, 2\]/);
    expect(() => new PaddingMask(tensor([1, 2], [1, 2]), 2, 0)).toThrow(/attentionMask\[0\]\[1\] is 2/);
  });
});

describe('decoder with left padding', () => {
  for (const [name, config] of Object.entries(decoders)) {
    it(`a left-padded batch equals each prompt alone, at prefill and over cached decoding: ${name}`, () => {
      const model = new DecoderLM(config, { seed: 7 }).eval();
      const { ids: batchIds, mask, width } = leftPad(prompts);
      const cache = new KVCache(model.spec.nLayer, { capacity: 4 }); // small: the decode steps make it grow
      const prefill = model.forward(batchIds, { cache, attentionMask: mask });
      const next = [[12], [13], [14]];
      const maskData = Array.from(mask.data());
      const steps: Tensor[] = [];
      let keyMask = prompts.map((_, b) => maskData.slice(b * width, (b + 1) * width));
      for (let s = 0; s < 3; s++) {
        keyMask = keyMask.map((row) => [...row, 1]);
        steps.push(model.forward(ids(next.map((r) => [r[0]! + s])), { cache, attentionMask: tensor(Float32Array.from(keyMask.flat()), [prompts.length, keyMask[0]!.length]) }));
      }
      prompts.forEach((p, b) => {
        const alone = model.forward(ids([[...p, next[b]![0]!, next[b]![0]! + 1, next[b]![0]! + 2]]));
        for (let t = 0; t < p.length; t++) {
          expectClose(rowLogits(prefill, b, width - p.length + t), rowLogits(alone, 0, t), 1e-4, 1e-3, `prefill b${b} t${t}`);
        }
        steps.forEach((step, s) => expectClose(rowLogits(step, b, 0), rowLogits(alone, 0, p.length + s), 1e-4, 1e-3, `step ${s} b${b}`));
      });
    });
  }

  it('long padded inputs go through the explicit path in query blocks with the same result', () => {
    for (const config of [decoders['llama (RoPE, GQA)'], decoders['gpt2 (ALiBi, MQA-free)']]) {
      const model = new DecoderLM(config, { seed: 8 }).eval();
      const { ids: x, mask } = leftPad(prompts);
      const whole = model.forward(x, { attentionMask: mask }).data();
      setExplicitScoresMax(3 * 4 * 6 * 2); // two query rows per block
      try {
        expectClose(model.forward(x, { attentionMask: mask }).data(), whole, 1e-6, 1e-5, 'logits');
      } finally {
        setExplicitScoresMax(1 << 22);
      }
    }
  });

  it('an all-ones mask changes nothing (the RoPE table path equals the fused rope op)', () => {
    const model = new DecoderLM(decoders['llama (RoPE, GQA)'], { seed: 2 }).eval();
    const x = ids([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
    const plain = model.forward(x).data();
    const masked = model.forward(x, { attentionMask: tensor(new Float32Array(10).fill(1), [2, 5]) }).data();
    expectClose(masked, plain, 1e-5, 1e-4, 'logits');
  });

  it('rejects a mask whose rows do not match the ids', () => {
    const model = new DecoderLM(decoders['gpt2 (learned positions)']);
    expect(() => model.forward(ids([[1, 2]]), { attentionMask: tensor([1, 1, 1, 1], [2, 2]) })).toThrow(/attentionMask has 2 rows but the ids have 1/);
  });
});

describe('EncoderLM padding mask', () => {
  for (const position_embedding of ['learned', 'rope', 'alibi'] as const) {
    it(`a right-padded batch gives each sequence's real tokens its outputs alone (${position_embedding})`, () => {
      const model = new EncoderLM({
        model_type: 'lmkit-encoder', vocab_size: V, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32,
        max_position_embeddings: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, position_embedding,
      }, { seed: 5 }).eval();
      const width = 6;
      const padded = prompts.map((r) => [...r, ...Array<number>(width - r.length).fill(0)]);
      const mask = tensor(Float32Array.from(prompts.flatMap((r) => [...Array<number>(r.length).fill(1), ...Array<number>(width - r.length).fill(0)])), [prompts.length, width]);
      const batch = model.forward(ids(padded), { attentionMask: mask });
      const unmasked = model.forward(ids(padded));
      prompts.forEach((p, b) => {
        const alone = model.forward(ids([p]));
        for (let t = 0; t < p.length; t++) expectClose(rowLogits(batch, b, t), rowLogits(alone, 0, t), 1e-4, 1e-3, `b${b} t${t}`);
      });
      // Without the mask the short sequences attend to their padding, so their outputs differ.
      expect(Math.abs(rowLogits(unmasked, 1, 0)[0]! - rowLogits(batch, 1, 0)[0]!)).toBeGreaterThan(1e-4);
    });
  }

  it('trains through the mask: the loss ignores padding and has gradients', () => {
    const model = new EncoderLM({
      model_type: 'lmkit-encoder', vocab_size: V, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 32,
      max_position_embeddings: 16, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
    }, { seed: 5 });
    const loss = model.loss(ids([[1, 2, 0], [3, 4, 5]]), ids([[2, -100, -100], [4, 5, -100]]), { attentionMask: tensor([1, 1, 0, 1, 1, 1], [2, 3]) });
    loss.backward();
    expect(Number.isFinite(loss.item())).toBe(true);
    const grad = model.blocks.items[0]!.attn.qkv.weight.grad!.data() as Float32Array;
    expect(grad.some((g) => g !== 0)).toBe(true);
  });
});
