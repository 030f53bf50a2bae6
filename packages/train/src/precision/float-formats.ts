// bf16 and fp16 emulation on fp32 buffers: round-to-nearest-even, NaN and Inf kept, as torch casts.

/** The reduced-precision formats training can emulate. */
export type HalfFormat = 'bf16' | 'f16';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bits of an fp32 bit pattern: `(u + 0x7FFF + ((u >> 16) & 1)) >> 16`, NaN kept quiet. */
function bf16BitsOf(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x007fffff) !== 0) return ((u >>> 16) | 0x0040) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** fp16 bits of an fp32 bit pattern with round-to-nearest-even, gradual underflow and overflow to Inf. */
function f16BitsOf(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // NOTE: subnormal half: m = (1.mant)·2^(e−14)·2^10, i.e. the 24-bit significand shifted right by 14−e.
    const shift = 14 - e;
    if (shift > 24) return sign;
    mant |= 0x800000;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let out = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // NOTE: a carry out of the mantissa correctly bumps the exponent (and 65520 becomes Inf).
  if (rem > 0x1000 || (rem === 0x1000 && (out & 1) === 1)) out += 1;
  return out;
}

/** fp32 value of fp16 bits. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** fp32 value of bf16 bits. */
export function bf16BitsToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** The bf16 bits of `x` (rounded to fp32 first). */
export function numberToBf16Bits(x: number): number {
  f32[0] = x;
  return bf16BitsOf(u32[0]);
}

/** The fp16 bits of `x` (rounded to fp32 first). */
export function numberToF16Bits(x: number): number {
  f32[0] = x;
  return f16BitsOf(u32[0]);
}

/**
 * `x` rounded to the nearest value the format can hold (ties to even), as an fp32 number.
 *
 * @example
 * roundToFormat(Math.PI, 'bf16'); // 3.140625
 * roundToFormat(65520, 'f16');    // Infinity
 */
export function roundToFormat(x: number, format: HalfFormat): number {
  f32[0] = x;
  if (format === 'bf16') {
    u32[0] = bf16BitsOf(u32[0]) << 16;
    return f32[0];
  }
  return f16BitsToNumber(f16BitsOf(u32[0]));
}

/**
 * Rounds every value of `src` to the format and writes the fp32 result to `out` (default: in place).
 * Used to derive bf16/fp16 compute weights from fp32 master weights and to round gradients.
 */
export function roundArrayToFormat(src: Float32Array, format: HalfFormat, out: Float32Array = src): Float32Array {
  const inBits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  if (format === 'bf16') {
    for (let i = 0; i < src.length; i++) outBits[i] = bf16BitsOf(inBits[i]) << 16;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = f16BitsToNumber(f16BitsOf(inBits[i]));
  }
  return out;
}

/** Machine epsilon of each format: 2⁻⁷ for bf16, 2⁻¹⁰ for fp16. */
export const FORMAT_EPSILON: Readonly<Record<HalfFormat, number>> = { bf16: 2 ** -7, f16: 2 ** -10 };
