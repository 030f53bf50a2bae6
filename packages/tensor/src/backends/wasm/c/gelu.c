// GELU, tanh approximation, forward and backward for WebAssembly SIMD128 (tanh from the vector exp).

#include "simd.h"

/** One thread's element range [i0, i1); every field is 4 bytes, mirrored by gelu.ts. */
typedef struct GeluJob {
  int32_t i0, i1;
  const float *x;   // input of the forward pass
  const float *dy;  // upstream gradient (backward only)
  float *out;       // y (forward) or dx (backward); may alias x or dy
} GeluJob;

#define SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_C 0.044715f

// tanh(u) = sign(u)·(1 − e)/(1 + e) with e = exp(−2|u|) ≤ 1, so the exp never overflows.
static inline v128_t tanh_f32x4(v128_t u) {
  v128_t sign = wasm_v128_and(u, wasm_i32x4_splat((int32_t)0x80000000));
  v128_t e = exp_nonpositive(wasm_f32x4_mul(wasm_f32x4_abs(u), wasm_f32x4_splat(-2.0f)));
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t t = wasm_f32x4_div(wasm_f32x4_sub(one, e), wasm_f32x4_add(one, e));
  return wasm_v128_or(t, sign);
}

// (tanh(inner), d inner / dx) for inner = √(2/π)·(x + 0.044715·x³).
static inline v128_t gelu_inner(v128_t x) {
  v128_t x2 = wasm_f32x4_mul(x, x);
  return wasm_f32x4_mul(wasm_f32x4_splat(SQRT_2_OVER_PI), MADD(x, wasm_f32x4_mul(x2, x), wasm_f32x4_splat(GELU_C)));
}

static inline float lane0(v128_t v) { return wasm_f32x4_extract_lane(v, 0); }

// y = 0.5·x·(1 + tanh(inner)).
static inline v128_t gelu_f32x4(v128_t x) {
  v128_t t = tanh_f32x4(gelu_inner(x));
  v128_t half_x = wasm_f32x4_mul(x, wasm_f32x4_splat(0.5f));
  return MADD(half_x, half_x, t);
}

// dy·(0.5·(1 + t) + 0.5·x·sech²(inner)·√(2/π)·(1 + 3·0.044715·x²)). NOTE: sech² = 4e/(1 + e)²
// with e = exp(−2|inner|), not 1 − t², which cancels to noise where |t| → 1 (|x| of 3 and more).
static inline v128_t gelu_grad_f32x4(v128_t x, v128_t dy) {
  v128_t u = gelu_inner(x);
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t half = wasm_f32x4_splat(0.5f);
  v128_t e = exp_nonpositive(wasm_f32x4_mul(wasm_f32x4_abs(u), wasm_f32x4_splat(-2.0f)));
  v128_t one_plus_e = wasm_f32x4_add(one, e);
  v128_t sign = wasm_v128_and(u, wasm_i32x4_splat((int32_t)0x80000000));
  v128_t t = wasm_v128_or(wasm_f32x4_div(wasm_f32x4_sub(one, e), one_plus_e), sign);
  v128_t sech2 = wasm_f32x4_div(wasm_f32x4_mul(wasm_f32x4_splat(4.0f), e), wasm_f32x4_mul(one_plus_e, one_plus_e));
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t dinner = wasm_f32x4_mul(wasm_f32x4_splat(SQRT_2_OVER_PI), MADD(one, x2, wasm_f32x4_splat(3.0f * GELU_C)));
  v128_t g = MADD(wasm_f32x4_mul(half, wasm_f32x4_add(one, t)), wasm_f32x4_mul(half, x), wasm_f32x4_mul(sech2, dinner));
  return wasm_f32x4_mul(g, dy);
}

void gelu_job(const GeluJob *job) {
  int i = job->i0;
  for (; i + 4 <= job->i1; i += 4) wasm_v128_store(job->out + i, gelu_f32x4(wasm_v128_load(job->x + i)));
  for (; i < job->i1; i++) job->out[i] = lane0(gelu_f32x4(wasm_f32x4_splat(job->x[i])));
}

void gelu_grad_job(const GeluJob *job) {
  int i = job->i0;
  for (; i + 4 <= job->i1; i += 4)
    wasm_v128_store(job->out + i, gelu_grad_f32x4(wasm_v128_load(job->x + i), wasm_v128_load(job->dy + i)));
  for (; i < job->i1; i++) job->out[i] = lane0(gelu_grad_f32x4(wasm_f32x4_splat(job->x[i]), wasm_f32x4_splat(job->dy[i])));
}
