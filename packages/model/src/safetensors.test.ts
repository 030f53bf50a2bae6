// Tests of the safetensors format: exact byte layout, ordering, dtype round trips, rounding, and malformed files.
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  entryToFloat32, entryToInt32, floatEntry, intEntry, parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors,
} from './safetensors.js';

describe('safetensors', () => {
  it('writes the exact reference byte layout', () => {
    const bytes = serializeSafetensors({ a: floatEntry(new Float32Array([1, 2]), [2]) });
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = json + ' '.repeat(56 - json.length);
    const view = new DataView(bytes.buffer);
    expect(Number(view.getBigUint64(0, true))).toBe(56);
    expect(new TextDecoder().decode(bytes.subarray(8, 64))).toBe(padded);
    expect(Array.from(new Float32Array(bytes.slice(64).buffer))).toEqual([1, 2]);
    expect(bytes.byteLength).toBe(72);
  });

  it('orders wider dtypes first, then names, and writes __metadata__ first', () => {
    const bytes = serializeSafetensors(
      { z: floatEntry(new Float32Array([1]), [1], 'BF16'), b: floatEntry(new Float32Array([1]), [1]), a: intEntry(new Int32Array([7]), [1], 'I64') },
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['__metadata__', 'a', 'b', 'z']);
    expect(header.a.data_offsets).toEqual([0, 8]);
    expect(header.b.data_offsets).toEqual([8, 12]);
    expect(header.z.data_offsets).toEqual([12, 14]);
  });

  it('round-trips F32/F16/BF16/I32/I64 and metadata through a file, atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-st-'));
    const values = new Float32Array([0, 1.5, -2.25, 3.140625, 65504, 1e-3]);
    await writeSafetensors(join(dir, 'm.safetensors'), {
      w32: floatEntry(values, [2, 3]),
      w16: floatEntry(values, [2, 3], 'F16'),
      wbf: floatEntry(values, [3, 2], 'BF16'),
      i32: intEntry(new Int32Array([1, -2, 3]), [3]),
      i64: intEntry(new Int32Array([-5, 2147483647]), [2], 'I64'),
      s: floatEntry(new Float32Array([4]), []),
    }, { format: 'pt' });
    expect(await readdir(dir)).toEqual(['m.safetensors']);
    const file = await readSafetensors(join(dir, 'm.safetensors'));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(Array.from(entryToFloat32(file.tensors.get('w32')!))).toEqual(Array.from(values));
    expect(file.tensors.get('w32')!.shape).toEqual([2, 3]);
    const w16 = entryToFloat32(file.tensors.get('w16')!);
    for (let i = 0; i < values.length; i++) expect(w16[i]).toBeCloseTo(values[i]!, 3);
    expect(Array.from(entryToFloat32(file.tensors.get('wbf')!)).slice(0, 4)).toEqual([0, 1.5, -2.25, 3.140625]);
    expect(entryToFloat32(file.tensors.get('wbf')!)[4]).toBe(65536); // bf16(65504) = 65536
    expect(Array.from(entryToInt32(file.tensors.get('i32')!))).toEqual([1, -2, 3]);
    expect(Array.from(entryToInt32(file.tensors.get('i64')!))).toEqual([-5, 2147483647]);
    expect(file.tensors.get('s')!.shape).toEqual([]);
  });

  it('rounds to nearest even for bf16 and f16 (torch test vectors)', () => {
    const bf = (x: number): number => entryToFloat32(floatEntry(new Float32Array([x]), [1], 'BF16'))[0]!;
    const fp = (x: number): number => entryToFloat32(floatEntry(new Float32Array([x]), [1], 'F16'))[0]!;
    expect(bf(1 + 2 ** -8)).toBe(1);
    expect(bf(1 + 3 * 2 ** -8)).toBe(1.015625);
    expect(bf(-0.1)).toBe(-0.10009765625);
    expect(bf(3.4e38)).toBe(Infinity);
    expect(Number.isNaN(bf(NaN))).toBe(true);
    expect(fp(65519)).toBe(65504);
    expect(fp(65520)).toBe(Infinity);
    expect(fp(2 ** -25)).toBe(0);
    expect(fp(2 ** -24)).toBe(2 ** -24);
  });

  it('rejects malformed files naming the problem', async () => {
    const good = serializeSafetensors({ a: floatEntry(new Float32Array([1, 2]), [2]) });
    expect(() => parseSafetensors(good.subarray(0, 4), 'x.safetensors')).toThrow(/x\.safetensors: file is 4 bytes/);
    expect(() => parseSafetensors(good.subarray(0, good.byteLength - 4), 'x.safetensors')).toThrow(/past the 4-byte data section|truncated/);
    const extra = new Uint8Array(good.byteLength + 4);
    extra.set(good);
    expect(() => parseSafetensors(extra)).toThrow(/data section is 12 bytes but tensors cover 8/);
    const badJson = Uint8Array.from(good);
    badJson[8] = 'x'.charCodeAt(0);
    expect(() => parseSafetensors(badJson)).toThrow(/does not start with/);
    const header = (h: unknown, data = 0): Uint8Array => {
      const text = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + text.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      return out;
    };
    expect(() => parseSafetensors(header({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1))).toThrow(/unknown dtype "Q4"/);
    expect(() => parseSafetensors(header({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8))).toThrow(/needs 12 bytes/);
    expect(() => parseSafetensors(header({ a: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, 2))).toThrow(/starts at byte 1, expected 0/);
    try {
      parseSafetensors(header({ a: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, 2));
    } catch (error) {
      expect((error as { code: string }).code).toBe('MODEL_BAD_SAFETENSORS');
    }
    const dir = await mkdtemp(join(tmpdir(), 'lmkit-st-'));
    await writeFile(join(dir, 'bad.safetensors'), 'not a file');
    await expect(readSafetensors(join(dir, 'bad.safetensors'))).rejects.toThrow(/bad\.safetensors/);
    expect((await readFile(join(dir, 'bad.safetensors'))).length).toBe(10);
  });
});

describe('safetensors written by the PyTorch fixture script', () => {
  it('parses with the expected names, dtypes and metadata', async () => {
    const dir = new URL('../test/fixtures/', import.meta.url).pathname;
    const model = await readSafetensors(join(dir, 'gpt2-tiny/model.safetensors'));
    expect(model.metadata).toEqual({ format: 'pt' });
    expect(model.tensors.get('transformer.h.0.attn.c_attn.weight')).toMatchObject({ dtype: 'F32', shape: [32, 96] });
    const ref = await readSafetensors(join(dir, 'llama-tiny/reference.safetensors'));
    expect(ref.tensors.get('input_ids')).toMatchObject({ dtype: 'I64', shape: [2, 8] });
    expect(ref.metadata.adamw_lr).toBe('0.01');
  });
});
