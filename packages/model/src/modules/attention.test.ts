// Tests of attention: GQA/MQA equal MHA with repeated heads, explicit vs fused scores, ALiBi slopes, and the KV cache.
import { describe, expect, it } from 'vitest';
import { attention, contiguous, createRng, noGrad, randn, slice, tensor, zeros, type Tensor } from '@lmkit/tensor';
import { expectClose, ids } from '../../test/helpers.js';
import { DecoderLM } from '../decoder-lm.js';
import type { PositionEmbedding } from '../config.js';
import { Attention, alibiSlopes } from './attention.js';
import { KVCache } from './kv-cache.js';

const C = 16;
const H = 4;
const D = 4;

/** Copies a GQA layer into an MHA layer by repeating each kv head for its query group. */
function expandToMha(gqa: Attention, mha: Attention): void {
  const w = gqa.qkv.weight.data() as Float32Array; // ((H + 2·Hkv)·D, C)
  const b = gqa.qkv.bias!.data() as Float32Array;
  const G = H / gqa.nKvHead;
  const outW = new Float32Array(3 * H * D * C);
  const outB = new Float32Array(3 * H * D);
  outW.set(w.subarray(0, H * D * C));
  outB.set(b.subarray(0, H * D));
  for (const part of [1, 2]) {
    for (let h = 0; h < H; h++) {
      const src = H * D + (part - 1) * gqa.nKvHead * D + Math.floor(h / G) * D;
      const dst = part * H * D + h * D;
      outW.set(w.subarray(src * C, (src + D) * C), dst * C);
      outB.set(b.subarray(src, src + D), dst);
    }
  }
  mha.loadStateDict(new Map([
    ['qkv.weight', { data: outW, shape: [3 * H * D, C] }], ['qkv.bias', { data: outB, shape: [3 * H * D] }],
    ['proj.weight', { data: gqa.proj.weight.data() as Float32Array, shape: [C, H * D] }], ['proj.bias', { data: gqa.proj.bias!.data() as Float32Array, shape: [C] }],
  ]));
}

function randomize(attn: Attention, seed: number): void {
  const rng = createRng(seed);
  attn.loadStateDict(new Map(attn.namedParameters().map(([n, p]) => [n, randn([...p.shape], { rng, std: 0.3 })])));
}

describe('Attention', () => {
  for (const positions of ['rope', 'alibi', 'learned'] as PositionEmbedding[]) {
    for (const nKvHead of [2, 1]) {
      it(`${nKvHead === 1 ? 'MQA' : 'GQA'} equals MHA with repeated kv heads (${positions})`, () => {
        const gqa = new Attention({ dModel: C, nHead: H, nKvHead, positions });
        const mha = new Attention({ dModel: C, nHead: H, positions });
        randomize(gqa, 11);
        expandToMha(gqa, mha);
        const x = randn([2, 5, C], { rng: createRng(12) });
        expectClose(gqa.forward(x).data(), mha.forward(x).data(), 1e-5, 1e-4, 'output');
      });
    }
  }

  for (const causal of [true, false]) {
    for (const positions of ['alibi', 'rope'] as PositionEmbedding[]) {
      it(`explicit-score path (used for attention dropout) equals the fused op (${causal ? 'causal' : 'bidirectional'}, ${positions}, GQA)`, () => {
        const rng = createRng(5);
        const fused = new Attention({ dModel: C, nHead: H, nKvHead: 2, positions, causal });
        // NOTE: p = 1e-9 drops nothing in practice, so the dropout path must match exactly-ish.
        const explicit = new Attention({ dModel: C, nHead: H, nKvHead: 2, positions, causal, dropout: 1e-9, rng });
        randomize(fused, 3);
        explicit.loadStateDict(fused.stateDict());
        const x = randn([2, 6, C], { rng: createRng(4) });
        expectClose(explicit.forward(x).data(), fused.eval().forward(x).data(), 1e-5, 1e-4, 'output');
      });
    }
  }

  it('ALiBi slopes follow the paper (8 heads: 1/2 … 1/256; 6 heads interleave)', () => {
    expect(Array.from(alibiSlopes(8))).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
    expectClose(alibiSlopes(6), [1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8], 0, 1e-6, 'slopes');
  });
});

describe('KV cache', () => {
  const configs = {
    'llama (RoPE, GQA)': { model_type: 'llama', vocab_size: 32, hidden_size: C, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: H, num_key_value_heads: 2, max_position_embeddings: 16 },
    'gpt2 (learned positions)': { model_type: 'gpt2', vocab_size: 32, n_embd: C, n_layer: 2, n_head: H, n_positions: 16, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 },
    'gpt2 (ALiBi, parallel block)': { model_type: 'gpt2', vocab_size: 32, n_embd: C, n_layer: 2, n_head: H, n_positions: 16, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, position_embedding: 'alibi', parallel_block: true },
  } as const;
  for (const [name, config] of Object.entries(configs)) for (const inPlace of [true, false]) {
    it(`incremental decoding equals the full forward: ${name}, ${inPlace ? 'in place' : 'concatenating'}`, () => {
      const model = new DecoderLM(config, { seed: 3 }).eval();
      const tokens = [[1, 5, 9, 2, 7, 3, 30], [4, 4, 8, 0, 31, 6, 2]];
      const full = model.forward(ids(tokens)).data() as Float32Array; // (2, 7, 32)
      const cache = new KVCache(model.spec.nLayer, { inPlace });
      const pieces: Tensor[] = [model.forward(ids(tokens.map((r) => r.slice(0, 3))), { cache })];
      for (let t = 3; t < 7; t++) pieces.push(model.forward(ids(tokens.map((r) => [r[t]!])), { cache }));
      expect(cache.length).toBe(7);
      const V = 32;
      for (let b = 0; b < 2; b++) {
        let t0 = 0;
        for (const piece of pieces) {
          const T = piece.shape[1]!;
          const got = (piece.data() as Float32Array).subarray(b * T * V, (b + 1) * T * V);
          expectClose(got, full.subarray((b * 7 + t0) * V, (b * 7 + t0 + T) * V), 1e-5, 1e-4, `logits b${b} t${t0}`);
          t0 += T;
        }
      }
    });
  }

  it('writes positions in place into preallocated buffers that double when full', () => {
    const model = new DecoderLM({ ...configs['llama (RoPE, GQA)'], max_position_embeddings: 40 }, { seed: 4 }).eval();
    const tokens = Array.from({ length: 20 }, (_, i) => (i * 7) % 32);
    const full = model.forward(ids([tokens])).data() as Float32Array;
    const cache = new KVCache(model.spec.nLayer, { capacity: 3 });
    const caps: number[] = [];
    let last: Tensor | null = null;
    for (const token of tokens) {
      last = model.forward(ids([[token]]), { cache });
      caps.push(cache.layer(1).capacity);
    }
    expect(caps).toEqual([...Array<number>(16).fill(16), 32, 32, 32, 32]); // at least 16, then doubled
    expect(cache.layer(1).k!.shape).toEqual([1, 2, 20, 4]);
    expectClose(last!.data(), full.subarray(19 * 32, 20 * 32), 1e-5, 1e-4, 'logits after growth');
    expect(new KVCache(1, { capacity: 64 }).layer(0).capacity).toBe(0); // allocated at the first append
    cache.clear();
    expect(cache.length).toBe(0);
    expect(cache.layer(0).k).toBeNull();
  });

  for (const inPlace of [true, false]) it(`keepRows drops batch rows and decoding continues for the kept ones (${inPlace ? 'in place' : 'concatenating'})`, () => {
    const model = new DecoderLM(configs['llama (RoPE, GQA)'], { seed: 6 }).eval();
    const tokens = [[1, 5, 9, 2, 7], [4, 4, 8, 0, 31], [6, 2, 3, 30, 12]];
    const cache = new KVCache(model.spec.nLayer, { inPlace });
    model.forward(ids(tokens.map((r) => r.slice(0, 3))), { cache });
    model.forward(ids(tokens.map((r) => [r[3]!])), { cache });
    cache.keepRows([2, 0]);
    expect(cache.layer(0).k!.shape).toEqual([2, 2, 4, 4]);
    const last = model.forward(ids([[tokens[2]![4]!], [tokens[0]![4]!]]), { cache }).data() as Float32Array; // (2, 1, 32)
    [2, 0].forEach((row, i) => {
      const full = model.forward(ids([tokens[row]!])).data() as Float32Array;
      expectClose(last.subarray(i * 32, (i + 1) * 32), full.subarray(4 * 32, 5 * 32), 1e-5, 1e-4, `row ${row}`);
    });
    expect(() => cache.keepRows([2])).toThrow(/row 2 is not one of the 2 cached rows/);
  });

  for (const inPlace of [true, false]) it(`joinRows adds a prefilled sequence right-aligned; decoding with the mask equals it alone (${inPlace ? 'in place' : 'concatenating'})`, () => {
    const model = new DecoderLM(configs['llama (RoPE, GQA)'], { seed: 6 }).eval();
    const running = [1, 5, 9, 2, 7, 3];
    const joining = [6, 2, 3];
    const cache = new KVCache(model.spec.nLayer, { inPlace });
    model.forward(ids([running.slice(0, 5)]), { cache });
    const other = new KVCache(model.spec.nLayer, { inPlace });
    model.forward(ids([joining.slice(0, 2)]), { cache: other });
    cache.joinRows(other, 3); // columns 3..4
    expect(cache.layer(1).k!.shape).toEqual([2, 2, 5, 4]);
    const mask = tensor([1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1], [2, 6]);
    const step = model.forward(ids([[running[5]!], [joining[2]!]]), { cache, attentionMask: mask }).data() as Float32Array;
    const aloneA = model.forward(ids([running])).data() as Float32Array;
    const aloneB = model.forward(ids([joining])).data() as Float32Array;
    expectClose(step.subarray(0, 32), aloneA.subarray(5 * 32, 6 * 32), 1e-4, 1e-3, 'running row');
    expectClose(step.subarray(32, 64), aloneB.subarray(2 * 32, 3 * 32), 1e-4, 1e-3, 'joined row');
    expect(() => cache.joinRows(other, 0)).toThrow(/do not end at this cache's length 6/);
  });

  for (const inPlace of [true, false]) it(`rejects a step whose batch differs from the cached one (${inPlace ? 'in place' : 'concatenating'})`, () => {
    const model = new DecoderLM(configs['gpt2 (learned positions)'], { seed: 4 }).eval();
    const cache = new KVCache(model.spec.nLayer, { inPlace });
    model.forward(ids([[1, 2]]), { cache });
    expect(() => model.forward(ids([[1], [2]]), { cache })).toThrow(/KV cache holds \(B, Hkv, ·, D\) = \(1, 4, ·, 4\)/);
  });

  for (const S of [40, 300]) {
    it(`fused attention reads a strided cache view in place and equals the contiguous keys (S = ${S}, ${S > 128 ? 'several' : 'one'} key tiles)`, () => {
      const rng = createRng(9);
      const [B, Hq, Hkv, Dh] = [2, 4, 2, 8];
      const kBuf = zeros([B, Hkv, 512, Dh]);
      const vBuf = zeros([B, Hkv, 512, Dh]);
      slice(kBuf, 2, 0, S).assign(randn([B, Hkv, S, Dh], { rng }));
      slice(vBuf, 2, 0, S).assign(randn([B, Hkv, S, Dh], { rng }));
      const q = randn([B, Hq, 1, Dh], { rng });
      const k = slice(kBuf, 2, 0, S);
      const v = slice(vBuf, 2, 0, S);
      expect(k.isContiguous).toBe(false);
      const strided = noGrad(() => attention(q, k, v, { causal: true })).data();
      const packed = attention(q, contiguous(k), contiguous(v), { causal: true }).data();
      expectClose(strided, packed, 1e-6, 1e-5, 'attention output');
    });
  }

  it('rejects positions past the context length', () => {
    const model = new DecoderLM(configs['gpt2 (learned positions)']);
    expect(() => model.forward(ids([Array.from({ length: 17 }, () => 1)]))).toThrow(/positions 0\.\.16 exceed the context length 16/);
  });
});
