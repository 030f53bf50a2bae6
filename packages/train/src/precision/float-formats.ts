// bf16 and fp16 emulation on fp32 buffers: round-to-nearest-even, NaN and Inf kept, as torch casts.
// The bit conversions are @lmkit/tensor's (one implementation for storage dtypes and training).
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, roundBf16, roundF16 } from '@lmkit/tensor';

/** The reduced-precision formats training can emulate. */
export type HalfFormat = 'bf16' | 'f16';

/** fp32 value of fp16 bits. */
export function f16BitsToNumber(h: number): number {
  return f16ToF32(Uint16Array.of(h))[0];
}

/** fp32 value of bf16 bits. */
export function bf16BitsToNumber(b: number): number {
  return bf16ToF32(Uint16Array.of(b))[0];
}

/** The bf16 bits of `x` (rounded to fp32 first). */
export function numberToBf16Bits(x: number): number {
  return f32ToBf16(Float32Array.of(x))[0];
}

/** The fp16 bits of `x` (rounded to fp32 first). */
export function numberToF16Bits(x: number): number {
  return f32ToF16(Float32Array.of(x))[0];
}

/**
 * `x` rounded to the nearest value the format can hold (ties to even), as an fp32 number.
 *
 * @example
 * roundToFormat(Math.PI, 'bf16'); // 3.140625
 * roundToFormat(65520, 'f16');    // Infinity
 */
export function roundToFormat(x: number, format: HalfFormat): number {
  return format === 'bf16' ? roundBf16(x) : roundF16(x);
}

/**
 * Rounds every value of `src` to the format and writes the fp32 result to `out` (default: in place).
 * Used to derive bf16/fp16 compute weights from fp32 master weights and to round gradients.
 */
export function roundArrayToFormat(src: Float32Array, format: HalfFormat, out: Float32Array = src): Float32Array {
  out.set(format === 'bf16' ? bf16ToF32(f32ToBf16(src)) : f16ToF32(f32ToF16(src)));
  return out;
}

/** Machine epsilon of each format: 2⁻⁷ for bf16, 2⁻¹⁰ for fp16. */
export const FORMAT_EPSILON: Readonly<Record<HalfFormat, number>> = { bf16: 2 ** -7, f16: 2 ** -10 };
