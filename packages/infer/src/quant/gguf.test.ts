import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecoderLM, getPreset } from '@lmkit/model';
import { tensor } from '@lmkit/tensor';
import { describe, expect, it } from 'vitest';
import { fromDecoderLM } from '../model-adapter.js';
import { dequantize, quantize } from './formats.js';
import { fromGgmlBlocks, toGgmlBlocks } from './ggml-blocks.js';
import { GGML_TYPE, parseGguf, serializeGguf, type GgufFile } from './gguf.js';
import { loadGgufModel, saveGgufModel } from './gguf-model.js';

describe('GGUF container', () => {
  it('round-trips metadata of every kind and aligned tensor data', () => {
    const file: GgufFile = {
      metadata: new Map([
        ['general.architecture', { type: 'string', value: 'gpt2' }],
        ['gpt2.block_count', { type: 'u32', value: 12 }],
        ['gpt2.attention.layer_norm_epsilon', { type: 'f32', value: 1e-5 }],
        ['x.flag', { type: 'bool', value: true }],
        ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: ['a', 'Ġb', '<|endoftext|>'] }],
        ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: [1, 1, 3] }],
      ]),
      tensors: [
        { name: 'a', dims: [3], type: GGML_TYPE.F32, data: new Uint8Array(new Float32Array([1, 2, 3]).buffer) },
        { name: 'b', dims: [32, 2], type: GGML_TYPE.Q8_0, data: new Uint8Array(68).map((_, i) => i) },
      ],
    };
    const bytes = serializeGguf(file);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('GGUF');
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(3);
    const back = parseGguf(bytes);
    expect(back.metadata.get('gpt2.block_count')).toEqual({ type: 'u32', value: 12 });
    expect((back.metadata.get('gpt2.attention.layer_norm_epsilon') as { value: number }).value).toBeCloseTo(1e-5, 10);
    expect(back.metadata.get('tokenizer.ggml.tokens')).toEqual(file.metadata.get('tokenizer.ggml.tokens'));
    expect(back.metadata.get('x.flag')).toEqual({ type: 'bool', value: true });
    expect(back.tensors.map((t) => [t.name, t.dims, t.type, Array.from(t.data)])).toEqual(file.tensors.map((t) => [t.name, t.dims, t.type, Array.from(t.data)]));
  });
  it('names the problem in a truncated or foreign file', () => {
    expect(() => parseGguf(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'x.gguf')).toThrow(/x.gguf: bad magic/);
    const bytes = serializeGguf({ metadata: new Map(), tensors: [{ name: 't', dims: [4], type: GGML_TYPE.F32, data: new Uint8Array(16) }] });
    expect(() => parseGguf(bytes.subarray(0, bytes.length - 20), 'y.gguf')).toThrow(/y.gguf: tensor t runs past the end/);
  });
  it('ggml blocks: f16 scale then codes, and back', () => {
    const w = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i));
    for (const format of ['q8_0', 'q4_0'] as const) {
      const q = quantize(w, 3, 64, format);
      const blocks = toGgmlBlocks(q);
      expect(blocks.length).toBe(3 * 2 * (format === 'q8_0' ? 34 : 18));
      const back = fromGgmlBlocks(blocks, 3, 64, format);
      expect(Array.from(back.scales)).toEqual(Array.from(q.scales));
      expect(Array.from(back.qs)).toEqual(Array.from(q.qs));
    }
  });
});

describe('quantized GGUF checkpoints', () => {
  const cases = [
    ['gpt2', { ...getPreset('tiny'), vocab_size: 256 }],
    ['llama', { ...getPreset('llama-like'), vocab_size: 256, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64 }],
  ] as const;
  for (const [name, config] of cases) {
    for (const format of ['q8_0', 'q4_0'] as const) {
      it(`${name} ${format}: the loaded file gives the same logits as quantizing on load`, async () => {
        const model = new DecoderLM(config as never, { seed: 11 });
        const dir = await mkdtemp(join(tmpdir(), 'lmkit-gguf-'));
        const path = join(dir, 'model.gguf');
        const info = await saveGgufModel(model, path, format);
        expect(info.quantized).toBeGreaterThan(0);
        const file = parseGguf(await readFile(path));
        expect((file.metadata.get('general.architecture') as { value: string }).value).toBe(name);
        expect(file.tensors.some((t) => t.name === 'blk.0.attn_norm.weight' && t.type === GGML_TYPE.F32)).toBe(true);
        const loaded = await loadGgufModel(path);
        const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);
        const fromFile = fromDecoderLM(loaded.model, { prequantized: loaded.quantized }).nextLogits(ids, null);
        // The file stores the token embedding quantized too (as llama.cpp does): the reference sees it so.
        const ref = new DecoderLM(config as never, { seed: 11 });
        const [V, C] = ref.embed.weight.shape as [number, number];
        ref.setParameter('embed.weight', tensor(dequantize(quantize(ref.embed.weight.data() as Float32Array, V, C, format)), [V, C]));
        const onLoad = fromDecoderLM(ref, { quantization: format }).nextLogits(ids, null);
        for (let v = 0; v < fromFile.length; v++) expect(fromFile[v]).toBeCloseTo(onLoad[v], 4);
      });
    }
  }
});

describe('GGUF vocabulary rows and unquantized formats', () => {
  const config = { ...getPreset('tiny'), vocab_size: 300, pad_vocab_multiple: 64, n_embd: 64, n_layer: 1 };
  const ids = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, 299]);

  it('writes only the real vocabulary rows, no output.weight for a tied head, and pads back with zeros on load', async () => {
    const model = new DecoderLM(config as never, { seed: 3 });
    expect(model.spec.vocabSize).toBe(320);
    const path = join(await mkdtemp(join(tmpdir(), 'lmkit-gguf-')), 'model.gguf');
    await saveGgufModel(model, path, 'q8_0');
    const file = parseGguf(await readFile(path));
    expect(file.tensors.find((t) => t.name === 'token_embd.weight')?.dims).toEqual([64, 300]);
    expect(file.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    const loaded = await loadGgufModel(path);
    const embed = loaded.model.embed.weight.data() as Float32Array;
    expect(loaded.model.embed.weight.shape).toEqual([320, 64]);
    expect(embed.subarray(300 * 64).every((x) => x === 0)).toBe(true);
    expect(loaded.quantized.get('head')?.rows).toBe(320);
    const fromFile = fromDecoderLM(loaded.model, { prequantized: loaded.quantized }).nextLogits(ids, null);
    const ref = new DecoderLM(config as never, { seed: 3 });
    const w = ref.embed.weight.data() as Float32Array;
    const cut = Float32Array.from(w.map((x, i) => (i < 300 * 64 ? x : 0)));
    ref.setParameter('embed.weight', tensor(dequantize(quantize(cut, 320, 64, 'q8_0')), [320, 64]));
    const onLoad = fromDecoderLM(ref, { quantization: 'q8_0' }).nextLogits(ids, null);
    for (let v = 0; v < 300; v++) expect(fromFile[v]).toBeCloseTo(onLoad[v], 4);
  });

  it('still loads files that store a tied head as output.weight with the padded rows', async () => {
    const model = new DecoderLM(config as never, { seed: 4 });
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-gguf-'));
    await saveGgufModel(model, join(dir, 'new.gguf'), 'q4_0');
    const file = parseGguf(await readFile(join(dir, 'new.gguf')));
    // The older layout: every vocab row, and the tied head written out again as output.weight.
    const padded = toGgmlBlocks(quantize(model.embed.weight.data() as Float32Array, 320, 64, 'q4_0'));
    const old: GgufFile = {
      metadata: file.metadata,
      tensors: [...file.tensors.map((t) => (t.name === 'token_embd.weight' ? { ...t, dims: [64, 320], data: padded } : t)), { name: 'output.weight', dims: [64, 320], type: GGML_TYPE.Q4_0, data: padded }],
    };
    await writeFile(join(dir, 'old.gguf'), serializeGguf(old));
    const a = await loadGgufModel(join(dir, 'old.gguf'));
    const b = await loadGgufModel(join(dir, 'new.gguf'));
    const la = fromDecoderLM(a.model, { prequantized: a.quantized }).nextLogits(ids, null);
    const lb = fromDecoderLM(b.model, { prequantized: b.quantized }).nextLogits(ids, null);
    for (let v = 0; v < 300; v++) expect(la[v]).toBeCloseTo(lb[v], 5);
  });

  for (const format of ['f32', 'f16'] as const) {
    it(`${format}: no quantized tensors, and the loaded model gives the source's logits`, async () => {
      const model = new DecoderLM(config as never, { seed: 5 });
      const path = join(await mkdtemp(join(tmpdir(), 'lmkit-gguf-')), 'model.gguf');
      const info = await saveGgufModel(model, path, format);
      expect(info.quantized).toBe(0);
      const file = parseGguf(await readFile(path));
      expect(file.metadata.get('general.file_type')).toEqual({ type: 'u32', value: format === 'f32' ? 0 : 1 });
      expect(file.tensors.find((t) => t.name === 'blk.0.attn_qkv.weight')?.type).toBe(format === 'f32' ? GGML_TYPE.F32 : GGML_TYPE.F16);
      const loaded = await loadGgufModel(path);
      expect(loaded.format).toBeNull();
      expect(loaded.quantized.size).toBe(0);
      const back = fromDecoderLM(loaded.model).nextLogits(ids, null);
      const ref = fromDecoderLM(model).nextLogits(ids, null);
      for (let v = 0; v < 300; v++) expect(Math.abs(back[v] - ref[v])).toBeLessThanOrEqual(format === 'f32' ? 0 : 2e-3);
    });
  }
});
