// Host-side dtype conversion for the gpu backend's cast kernel (bf16/f16 rounding needs bit operations GLSL ES 1.0 lacks).
import type { Dtype } from '../../backend.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../dtype.js';

/** Converts `values` (a storage's f32 texels holding `from`-typed values or bit patterns) to `to`'s host array. */
export function castHost(values: Float32Array, from: Dtype, to: Dtype): Float32Array | Int32Array | Uint16Array {
  const f32 = from === 'bf16' ? bf16ToF32(Uint16Array.from(values))
    : from === 'f16' ? f16ToF32(Uint16Array.from(values))
      : values;
  switch (to) {
    case 'f32': return f32;
    case 'bf16': return f32ToBf16(f32);
    case 'f16': return f32ToF16(f32);
    case 'i32': return Int32Array.from(f32, (v) => Math.trunc(v));
  }
}
