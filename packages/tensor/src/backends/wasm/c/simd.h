// Shared definitions of the WebAssembly kernels: the multiply-add macro and the job kinds.
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

// MADD(acc, x, y) = acc + x*y. With RELAXED the build script rewrites clang 14's prototype
// `f32x4.fma` opcode (0xfd 0xaf) into the standard `f32x4.relaxed_madd` (0xfd 0x105), whose
// operand order is (x, y, acc) → x*y + acc; hence the argument order below.
#ifdef RELAXED
#define MADD(acc, x, y) __builtin_wasm_fma_f32x4((x), (y), (acc))
#else
#define MADD(acc, x, y) wasm_f32x4_add((acc), wasm_f32x4_mul((x), (y)))
#endif

/** Job kinds, the first word of every job descriptor (mirrored by wasm-runtime.ts). */
enum { JOB_SGEMM = 1, JOB_SOFTMAX = 2, JOB_GELU = 3, JOB_GELU_GRAD = 4, JOB_ATTENTION_DECODE = 5 };

// exp(x) for x ≤ 0 (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial; ≤ 2 ulp).
// Below -87.3 the result is 0 exactly (so -Infinity masks give exact zeros); NaN stays NaN.
static inline v128_t exp_nonpositive(v128_t x) {
  const v128_t lo = wasm_f32x4_splat(-87.3f);
  v128_t underflow = wasm_f32x4_lt(x, lo);
  // NOTE: pmax (one maxps) instead of the IEEE max (a long sequence in V8); a NaN x stays NaN
  // because pmax(x, lo) = x < lo ? lo : x.
  x = wasm_f32x4_pmax(x, lo);
  // NOTE: adding 1.5·2²³ rounds x·log2(e) to an integer n and leaves n in the low mantissa bits,
  // which is cheaper in V8 than f32x4.nearest + i32x4.trunc_sat (a long NaN-safe sequence on x86).
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(t, magic);
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = MADD(wasm_f32x4_splat(1.3981999507e-3f), p, r);
  p = MADD(wasm_f32x4_splat(8.3334519073e-3f), p, r);
  p = MADD(wasm_f32x4_splat(4.1665795894e-2f), p, r);
  p = MADD(wasm_f32x4_splat(1.6666665459e-1f), p, r);
  p = MADD(wasm_f32x4_splat(5.0000001201e-1f), p, r);
  p = MADD(wasm_f32x4_add(r, wasm_f32x4_splat(1.0f)), p, wasm_f32x4_mul(r, r));
  // 2^n by building the float's exponent bits from t's (bits(t) = 0x4B400000 + n); n ∈ [-126, 0] here.
  v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - 0x4B400000)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, pow2), underflow);
}



/** Runs one thread's share of a batched sgemm (sgemm.c). */
struct SgemmJob;
void sgemm_job(const struct SgemmJob *job);
/** Runs one thread's rows of a row softmax (softmax.c). */
struct SoftmaxJob;
void softmax_job(const struct SoftmaxJob *job);
/** One thread's range of a GELU forward or backward (gelu.c). */
struct GeluJob;
void gelu_job(const struct GeluJob *job);
void gelu_grad_job(const struct GeluJob *job);
/** One thread's query rows of a small-T attention (attention_decode.c). */
struct AttnDecodeJob;
void attention_decode_job(const struct AttnDecodeJob *job);
