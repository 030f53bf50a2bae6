// trimVocabRows/padVocabRows: only vocab-indexed parameters change, real rows are kept exactly, padding comes back as zeros.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './resolve-config.js';
import { padVocabRows, trimVocabRows } from './vocab-rows.js';
import type { HostArray } from './hf-names.js';

const arange = (shape: number[]): HostArray => ({ data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 1), shape });

describe('vocab rows at the checkpoint boundary', () => {
  const { spec } = resolveConfig({ model_type: 'lmkit-encoder', vocab_size: 10, pad_vocab_multiple: 8, hidden_size: 4, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16 });

  it('cuts the embedding, head and MLM bias to the real vocabulary and pads them back with zeros', () => {
    expect([spec.realVocabSize, spec.vocabSize]).toEqual([10, 16]);
    const params = new Map([['embed.weight', arange([16, 4])], ['head.weight', arange([16, 4])], ['mlmHead.bias', arange([16])], ['pos.weight', arange([16, 4])]]);
    const trimmed = trimVocabRows(spec, params);
    expect(trimmed.get('embed.weight')!.shape).toEqual([10, 4]);
    expect(Array.from(trimmed.get('embed.weight')!.data)).toEqual(Array.from(params.get('embed.weight')!.data.subarray(0, 40)));
    expect(trimmed.get('head.weight')!.shape).toEqual([10, 4]);
    expect(Array.from(trimmed.get('mlmHead.bias')!.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(trimmed.get('pos.weight')).toBe(params.get('pos.weight')); // 16 positions, not vocab rows
    const padded = padVocabRows(spec, trimmed);
    expect(padded.get('embed.weight')!.shape).toEqual([16, 4]);
    expect(Array.from(padded.get('embed.weight')!.data.subarray(40))).toEqual(new Array(24).fill(0));
    expect(Array.from(padded.get('mlmHead.bias')!.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0, 0, 0, 0, 0]);
    expect(padVocabRows(spec, params).get('embed.weight')).toBe(params.get('embed.weight')); // already padded: unchanged
  });

  it('leaves everything alone without padding', () => {
    const { spec: plain } = resolveConfig({ model_type: 'gpt2', vocab_size: 12, n_embd: 4, n_layer: 1, n_head: 2, n_positions: 8 });
    const params = new Map([['embed.weight', arange([12, 4])]]);
    expect(trimVocabRows(plain, params)).toBe(params);
    expect(padVocabRows(plain, params)).toBe(params);
  });
});
