// Raw float conversions between f32 and the 16-bit storage formats bf16 and f16 (round to nearest even, NaN/Inf kept).

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

function u32View(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

/** Rounds one f32 bit pattern to bf16 bits (nearest even; NaN stays a quiet NaN with its sign). */
export function bf16BitsFromF32Bits(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Rounds one f32 bit pattern to f16 bits (nearest even; overflow → ±Inf, underflow → subnormal or ±0). */
export function f16BitsFromF32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant !== 0 ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const e = exp - 112; // exp − 127 + 15
  if (e >= 31) return sign | 0x7c00;
  if (e > 0) {
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++; // a carry into the exponent is correct (→ Inf at the top)
    return sign | half;
  }
  const s = 14 - e; // subnormal: value = (mant | 2^23) · 2^(exp − 150), unit 2^−24
  if (s > 24) return sign;
  const full = mant | 0x800000;
  let half = full >>> s;
  const rest = full & ((1 << s) - 1);
  const halfway = 1 << (s - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
  return sign | half;
}

/** Decodes f16 bits to a number. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * f32 → bf16 bit patterns, round to nearest even; NaN and ±Inf are kept.
 *
 * @example
 * bf16ToF32(f32ToBf16(new Float32Array([Math.PI])))[0] // 3.140625
 */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const u = u32View(src);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < u.length; i++) out[i] = bf16BitsFromF32Bits(u[i]);
  return out;
}

/** bf16 bit patterns → f32 (exact). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u = u32View(out);
  for (let i = 0; i < src.length; i++) u[i] = src[i] << 16;
  return out;
}

/** f32 → f16 bit patterns, round to nearest even; overflow → ±Inf, NaN kept. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const u = u32View(src);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < u.length; i++) out[i] = f16BitsFromF32Bits(u[i]);
  return out;
}

/** f16 bit patterns → f32 (exact). */
export function f16ToF32(src: Uint16Array): Float32Array {
  const table = f16Table();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

let f16Lut: Float32Array | null = null;
function f16Table(): Float32Array {
  if (f16Lut === null) {
    f16Lut = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Lut[h] = f16BitsToNumber(h);
  }
  return f16Lut;
}

/** Rounds one number through bf16 (for scalar checks). */
export function roundBf16(x: number): number {
  scratchF[0] = x;
  scratchU[0] = bf16BitsFromF32Bits(scratchU[0]) << 16;
  return scratchF[0];
}

/** Rounds one number through f16 (for scalar checks). */
export function roundF16(x: number): number {
  scratchF[0] = x;
  return f16BitsToNumber(f16BitsFromF32Bits(scratchU[0]));
}
