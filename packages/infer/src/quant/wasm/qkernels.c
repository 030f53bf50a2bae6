// WebAssembly SIMD kernels for q8_0 / q4_0 weights: activations are quantized to q8_0 per block of 32
// once per call and widened to int16, then four weight rows at a time run int8×int16 dot products.
//
// Layouts (all chosen by the JS side, see wasm-kernels.ts):
// - weights are packed in groups of 4 rows: group g, block b holds row 4g's block b, then 4g+1's, ...
//   (32 bytes per row block for q8_0, 16 for q4_0), and the scales as 4 floats per (g, b);
// - activations of token t, block b are 32 int16 (64 bytes) in natural order for q8_0, and in the
//   order the q4_0 nibble unpacking yields for q4_0 (see prep_activations), plus one float scale and,
//   for q4_0, the block's integer sum (the −8 offset of the codes costs one multiply per block).
// Every thread instantiates this module over one shared memory, so nothing may use the C stack.
#include <stdint.h>
#include <wasm_simd128.h>

#define QK 32
#define FMT_Q8_0 0
#define FMT_Q4_0 1
// Tokens processed per pass over a 4-row weight group during prefill (their activations stay in L2).
#define TOKEN_TILE 16

// Quantizes `tokens` rows of nb * 32 floats to q8_0 and widens them to int16 in the format's order.
// xd[t * nb + b] = max|x| / 127; xs[t * nb + b] = Σ of the block's codes (used by q4_0).
void prep_activations(const float *x, int nb, int tokens, int format, int16_t *xa, float *xd, int32_t *xs) {
  for (int i = 0; i < tokens * nb; i++) {
    const float *xb = x + (long)i * QK;
    v128_t amax = wasm_f32x4_splat(0.0f);
    for (int j = 0; j < QK; j += 4) amax = wasm_f32x4_max(amax, wasm_f32x4_abs(wasm_v128_load(xb + j)));
    float m = wasm_f32x4_extract_lane(amax, 0);
    float m1 = wasm_f32x4_extract_lane(amax, 1), m2 = wasm_f32x4_extract_lane(amax, 2), m3 = wasm_f32x4_extract_lane(amax, 3);
    if (m1 > m) m = m1;
    if (m2 > m) m = m2;
    if (m3 > m) m = m3;
    const float d = m / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    xd[i] = d;
    const v128_t vid = wasm_f32x4_splat(id);
    v128_t q[4];
    for (int k = 0; k < 4; k++) {
      v128_t a = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + 8 * k), vid)));
      v128_t c = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(xb + 8 * k + 4), vid)));
      q[k] = wasm_i16x8_narrow_i32x4(a, c); // elements 8k .. 8k+7
    }
    v128_t sum = wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(q[0]), wasm_i32x4_extadd_pairwise_i16x8(q[1])),
                                wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(q[2]), wasm_i32x4_extadd_pairwise_i16x8(q[3])));
    xs[i] = wasm_i32x4_extract_lane(sum, 0) + wasm_i32x4_extract_lane(sum, 1) + wasm_i32x4_extract_lane(sum, 2) + wasm_i32x4_extract_lane(sum, 3);
    int16_t *out = xa + (long)i * QK;
    if (format == FMT_Q8_0) {
      for (int k = 0; k < 4; k++) wasm_v128_store(out + 8 * k, q[k]);
    } else {
      // q4_0 unpacks a 16-bit lane k of the packed codes into elements 2k, 2k+16, 2k+1, 2k+17.
      v128_t lo = wasm_i16x8_shuffle(q[0], q[1], 0, 2, 4, 6, 8, 10, 12, 14);   // 0, 2, .., 14
      v128_t lo1 = wasm_i16x8_shuffle(q[0], q[1], 1, 3, 5, 7, 9, 11, 13, 15);  // 1, 3, .., 15
      v128_t hi = wasm_i16x8_shuffle(q[2], q[3], 0, 2, 4, 6, 8, 10, 12, 14);   // 16, 18, .., 30
      v128_t hi1 = wasm_i16x8_shuffle(q[2], q[3], 1, 3, 5, 7, 9, 11, 13, 15);  // 17, 19, .., 31
      wasm_v128_store(out, lo);
      wasm_v128_store(out + 8, hi);
      wasm_v128_store(out + 16, lo1);
      wasm_v128_store(out + 24, hi1);
    }
  }
}

// [Σ s0, Σ s1, Σ s2, Σ s3]: the horizontal sums of four int32x4 vectors in one vector.
static inline v128_t hsum4(v128_t s0, v128_t s1, v128_t s2, v128_t s3) {
  v128_t t0 = wasm_i32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
  v128_t t1 = wasm_i32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

// One row block's 32 weight codes as four int16x8 vectors, in the order of the activations' layout.
typedef struct {
  v128_t e0, e1, e2, e3;
} codes16;

// q8_0: 32 int8 codes at w, widened in natural order.
static inline codes16 widen_q8(const int8_t *w) {
  v128_t w0 = wasm_v128_load(w);
  v128_t w1 = wasm_v128_load(w + 16);
  codes16 c = {wasm_i16x8_extend_low_i8x16(w0), wasm_i16x8_extend_high_i8x16(w0), wasm_i16x8_extend_low_i8x16(w1), wasm_i16x8_extend_high_i8x16(w1)};
  return c;
}

// q4_0: 16 packed bytes at w; 16-bit lane k yields codes 2k, 2k+16, 2k+1, 2k+17 (0..15, without the −8).
static inline codes16 widen_q4(const uint8_t *w) {
  const v128_t nib = wasm_i16x8_splat(0x000f);
  v128_t v = wasm_v128_load(w);
  codes16 c = {wasm_v128_and(v, nib), wasm_v128_and(wasm_u16x8_shr(v, 4), nib), wasm_v128_and(wasm_u16x8_shr(v, 8), nib), wasm_u16x8_shr(v, 12)};
  return c;
}

// int32x4 partial sums of one row block's codes · 32 int16 activations at a.
static inline v128_t dot_codes(codes16 c, const int16_t *a) {
  v128_t s = wasm_i32x4_add(wasm_i32x4_dot_i16x8(c.e0, wasm_v128_load(a)), wasm_i32x4_dot_i16x8(c.e1, wasm_v128_load(a + 8)));
  return wasm_i32x4_add(s, wasm_i32x4_add(wasm_i32x4_dot_i16x8(c.e2, wasm_v128_load(a + 16)), wasm_i32x4_dot_i16x8(c.e3, wasm_v128_load(a + 24))));
}

static inline codes16 widen(int format, const uint8_t *w) {
  return format == FMT_Q8_0 ? widen_q8((const int8_t *)w) : widen_q4(w);
}

// Block b's contribution to the 4 rows' f32 accumulator: int sums (minus 8·Σa for q4_0) × w scales × x scale.
static inline v128_t scaled(int format, v128_t s, const float *dg, int b, float dx, int32_t sx) {
  if (format == FMT_Q4_0) s = wasm_i32x4_sub(s, wasm_i32x4_splat(8 * sx));
  return wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), wasm_f32x4_mul(wasm_v128_load(dg + 4 * b), wasm_f32x4_splat(dx)));
}

// Writes the 4 rows of group g for token t: y[t * rows + 4g + i] = acc[i] (+ bias), rows past `rows` dropped.
static inline void store4(float *y, const float *bias, int rows, int g, int t, v128_t acc) {
  const int r0 = 4 * g;
  float *yt = y + (long)t * rows + r0;
  if (bias) acc = wasm_f32x4_add(acc, r0 + 4 <= rows ? wasm_v128_load(bias + r0) : wasm_f32x4_make(bias[r0], r0 + 1 < rows ? bias[r0 + 1] : 0.0f, r0 + 2 < rows ? bias[r0 + 2] : 0.0f, 0.0f));
  if (r0 + 4 <= rows) {
    wasm_v128_store(yt, acc);
    return;
  }
  // NOTE: no local array (it would live on the C stack, shared by all threads).
  yt[0] = wasm_f32x4_extract_lane(acc, 0);
  if (r0 + 1 < rows) yt[1] = wasm_f32x4_extract_lane(acc, 1);
  if (r0 + 2 < rows) yt[2] = wasm_f32x4_extract_lane(acc, 2);
}

// y (tokens, rows) for the 4-row groups [g0, g1); tokens go in pairs so each widened weight block serves two.
static inline __attribute__((always_inline)) void gemm(int format, const uint8_t *wq, const float *wd, const int16_t *xa, const float *xd, const int32_t *xs,
                                                       int g0, int g1, int nb, int tokens, const float *bias, float *y, int rows) {
  const int rb = format == FMT_Q8_0 ? QK : QK / 2; // bytes per row block
  for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
    const int t1 = t0 + TOKEN_TILE < tokens ? t0 + TOKEN_TILE : tokens;
    for (int g = g0; g < g1; g++) {
      const uint8_t *wg = wq + (long)g * nb * 4 * rb;
      const float *dg = wd + (long)g * nb * 4;
      int t = t0;
      for (; t + 1 < t1; t += 2) {
        const int16_t *xa0 = xa + (long)t * nb * QK, *xa1 = xa0 + nb * QK;
        const float *xd0 = xd + (long)t * nb, *xd1 = xd0 + nb;
        const int32_t *xs0 = xs + (long)t * nb, *xs1 = xs0 + nb;
        v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb; b++) {
          const uint8_t *wb = wg + b * 4 * rb;
          const int16_t *a0 = xa0 + b * QK, *a1 = xa1 + b * QK;
          codes16 c = widen(format, wb);
          v128_t s00 = dot_codes(c, a0), s01 = dot_codes(c, a1);
          c = widen(format, wb + rb);
          v128_t s10 = dot_codes(c, a0), s11 = dot_codes(c, a1);
          c = widen(format, wb + 2 * rb);
          v128_t s20 = dot_codes(c, a0), s21 = dot_codes(c, a1);
          c = widen(format, wb + 3 * rb);
          v128_t s30 = dot_codes(c, a0), s31 = dot_codes(c, a1);
          acc0 = wasm_f32x4_add(acc0, scaled(format, hsum4(s00, s10, s20, s30), dg, b, xd0[b], xs0[b]));
          acc1 = wasm_f32x4_add(acc1, scaled(format, hsum4(s01, s11, s21, s31), dg, b, xd1[b], xs1[b]));
        }
        store4(y, bias, rows, g, t, acc0);
        store4(y, bias, rows, g, t + 1, acc1);
      }
      for (; t < t1; t++) {
        const int16_t *xt = xa + (long)t * nb * QK;
        const float *dt = xd + (long)t * nb;
        const int32_t *st = xs + (long)t * nb;
        v128_t acc = wasm_f32x4_splat(0.0f);
        for (int b = 0; b < nb; b++) {
          const uint8_t *wb = wg + b * 4 * rb;
          const int16_t *a = xt + b * QK;
          v128_t s = hsum4(dot_codes(widen(format, wb), a), dot_codes(widen(format, wb + rb), a), dot_codes(widen(format, wb + 2 * rb), a), dot_codes(widen(format, wb + 3 * rb), a));
          acc = wasm_f32x4_add(acc, scaled(format, s, dg, b, dt[b], st[b]));
        }
        store4(y, bias, rows, g, t, acc);
      }
    }
  }
}

// Runs one job descriptor (int32 fields, byte offsets into memory):
// [format, wq, wd, xa, xd, xs, g0, g1, nb, tokens, bias (0 = none), y, rows, next chunk, chunks].
// Every thread runs the same descriptor: each takes the next of `chunks` equal slices of the groups
// [g0, g1) until none is left, so a thread the OS deschedules delays the call by one chunk at most.
void run_job(int32_t *job) {
  const int format = job[0];
  const float *wd = (const float *)job[2];
  const int16_t *xa = (const int16_t *)job[3];
  const float *xd = (const float *)job[4];
  const int32_t *xs = (const int32_t *)job[5];
  const float *bias = job[10] ? (const float *)job[10] : 0;
  float *y = (float *)job[11];
  const long groups = job[7] - job[6];
  const int chunks = job[14];
  for (;;) {
    const int c = __atomic_fetch_add(&job[13], 1, __ATOMIC_RELAXED);
    if (c >= chunks) break;
    const int g0 = job[6] + (int)(groups * c / chunks), g1 = job[6] + (int)(groups * (c + 1) / chunks);
    // NOTE: two calls with constant formats, so each inlined copy is specialised.
    if (format == FMT_Q8_0) gemm(FMT_Q8_0, (const uint8_t *)job[1], wd, xa, xd, xs, g0, g1, job[8], job[9], bias, y, job[12]);
    else gemm(FMT_Q4_0, (const uint8_t *)job[1], wd, xa, xd, xs, g0, g1, job[8], job[9], bias, y, job[12]);
  }
}
