// WebAssembly SIMD kernels for q8_0 / q4_0 weights: activations are quantized to q8_0 per block of 32,
// then each block's dot product runs on int8 lanes (i16x8 extend + i32x4.dot_i16x8_s) and is scaled once.
#include <stdint.h>
#include <wasm_simd128.h>

#define QK 32

// Quantizes n = nb * 32 floats to q8_0: xd[b] = max|x| / 127, xq = round(x / xd).
void quantize_row_q8_0(const float *x, int nb, int8_t *xq, float *xd) {
  for (int b = 0; b < nb; b++) {
    const float *xb = x + b * QK;
    v128_t amax = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < QK; j += 4) amax = wasm_f32x4_max(amax, wasm_f32x4_abs(wasm_v128_load(xb + j)));
    float m = wasm_f32x4_extract_lane(amax, 0);
    float m1 = wasm_f32x4_extract_lane(amax, 1), m2 = wasm_f32x4_extract_lane(amax, 2), m3 = wasm_f32x4_extract_lane(amax, 3);
    if (m1 > m) m = m1;
    if (m2 > m) m = m2;
    if (m3 > m) m = m3;
    const float d = m / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    xd[b] = d;
    const v128_t vid = wasm_f32x4_splat(id);
    for (int j = 0; j < QK; j += 16) {
      v128_t a = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + j), vid)));
      v128_t c = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + j + 4), vid)));
      v128_t e = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + j + 8), vid)));
      v128_t g = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + j + 12), vid)));
      v128_t lo = wasm_i16x8_narrow_i32x4(a, c);
      v128_t hi = wasm_i16x8_narrow_i32x4(e, g);
      wasm_v128_store(xq + b * QK + j, wasm_i8x16_narrow_i16x8(lo, hi));
    }
  }
}

static inline v128_t dot_i8x16(v128_t a, v128_t b) {
  v128_t lo = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_low_i8x16(b));
  v128_t hi = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_high_i8x16(b));
  return wasm_i32x4_add(lo, hi);
}

static inline float hsum_f32x4(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// y[t, r] = Σ_b wd[r, b] · xd[t, b] · (wq[r, b, :] · xq[t, b, :])  (+ bias[r]); weights q8_0.
void gemm_q8_0(const int8_t *wq, const float *wd, const int8_t *xq, const float *xd, int rows, int nb, int tokens, const float *bias, float *y) {
  for (int r = 0; r < rows; r++) {
    const int8_t *wr = wq + (long)r * nb * QK;
    const float *dr = wd + (long)r * nb;
    for (int t = 0; t < tokens; t++) {
      const int8_t *xt = xq + (long)t * nb * QK;
      const float *dt = xd + (long)t * nb;
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int b = 0; b < nb; b++) {
        v128_t s = wasm_i32x4_add(dot_i8x16(wasm_v128_load(wr + b * QK), wasm_v128_load(xt + b * QK)),
                                  dot_i8x16(wasm_v128_load(wr + b * QK + 16), wasm_v128_load(xt + b * QK + 16)));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(dr[b] * dt[b])));
      }
      y[(long)t * rows + r] = hsum_f32x4(acc) + (bias ? bias[r] : 0.0f);
    }
  }
}

// Same for q4_0 weights: 16 bytes per block, low nibbles = elements 0..15, high = 16..31, value = code - 8.
void gemm_q4_0(const uint8_t *wq, const float *wd, const int8_t *xq, const float *xd, int rows, int nb, int tokens, const float *bias, float *y) {
  const v128_t mask = wasm_i8x16_splat(0x0f);
  const v128_t eight = wasm_i8x16_splat(8);
  for (int r = 0; r < rows; r++) {
    const uint8_t *wr = wq + (long)r * nb * (QK / 2);
    const float *dr = wd + (long)r * nb;
    for (int t = 0; t < tokens; t++) {
      const int8_t *xt = xq + (long)t * nb * QK;
      const float *dt = xd + (long)t * nb;
      v128_t acc = wasm_f32x4_splat(0.0f);
      for (int b = 0; b < nb; b++) {
        v128_t packed = wasm_v128_load(wr + b * (QK / 2));
        v128_t lo = wasm_i8x16_sub(wasm_v128_and(packed, mask), eight);
        v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(packed, 4), eight);
        v128_t s = wasm_i32x4_add(dot_i8x16(lo, wasm_v128_load(xt + b * QK)), dot_i8x16(hi, wasm_v128_load(xt + b * QK + 16)));
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_splat(dr[b] * dt[b])));
      }
      y[(long)t * rows + r] = hsum_f32x4(acc) + (bias ? bias[r] : 0.0f);
    }
  }
}
