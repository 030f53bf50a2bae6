import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entryToFloat32, readSafetensors } from '@lmkit/model';
import { FORMAT_EPSILON, numberToBf16Bits, numberToF16Bits, roundArrayToFormat, roundToFormat } from './float-formats.js';

describe('bf16 / fp16 emulation', () => {
  it('gives the reference test vectors (training.md §3, checked against torch)', () => {
    expect(roundToFormat(1 + 2 ** -8, 'bf16')).toBe(1);
    expect(roundToFormat(1 + 3 * 2 ** -8, 'bf16')).toBe(1.015625);
    expect(roundToFormat(Math.PI, 'bf16')).toBe(3.140625);
    expect(roundToFormat(-0.1, 'bf16')).toBe(-0.10009765625);
    expect(roundToFormat(65504, 'bf16')).toBe(65536);
    expect(roundToFormat(3.4e38, 'bf16')).toBe(Infinity);
    expect(roundToFormat(65519, 'f16')).toBe(65504);
    expect(roundToFormat(65520, 'f16')).toBe(Infinity);
    expect(roundToFormat(2 ** -25, 'f16')).toBe(0);
    expect(roundToFormat(1 + FORMAT_EPSILON.bf16, 'bf16')).toBe(1 + 2 ** -7);
    expect(roundToFormat(1 + FORMAT_EPSILON.f16, 'f16')).toBe(1 + 2 ** -10);
    expect(Number.isNaN(roundToFormat(NaN, 'bf16'))).toBe(true);
    expect(Number.isNaN(roundToFormat(NaN, 'f16'))).toBe(true);
    expect(numberToBf16Bits(1)).toBe(0x3f80);
    expect(numberToF16Bits(1)).toBe(0x3c00);
    expect(numberToF16Bits(-2)).toBe(0xc000);
  });
  it('matches torch .to(bfloat16) / .to(float16) bit for bit on 4019 values', async () => {
    const file = await readSafetensors(fileURLToPath(new URL('../../test/fixtures/half.safetensors', import.meta.url)));
    const x = entryToFloat32(file.tensors.get('x')!);
    for (const format of ['bf16', 'f16'] as const) {
      const want = entryToFloat32(file.tensors.get(format)!);
      const got = roundArrayToFormat(x, format, new Float32Array(x.length));
      let mismatches = 0;
      for (let i = 0; i < x.length; i++) if (!Object.is(got[i], want[i])) mismatches++;
      expect(mismatches, format).toBe(0);
    }
  });
});
