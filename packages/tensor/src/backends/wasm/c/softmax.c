// Row softmax for WebAssembly SIMD128: y = exp(x - max(x)) / Σ exp(x - max(x)) per row, with a vector exp.

#include "simd.h"

/** One thread's rows of a (rows × cols) softmax; every field is 4 bytes, mirrored by softmax.ts. */
typedef struct SoftmaxJob {
  int32_t rows, cols;
  const float *x;  // (rows × cols), row-major, contiguous
  float *y;        // (rows × cols); may equal x
  int32_t row0, row1;
} SoftmaxJob;

// exp(x) for x ≤ 0 (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial; ≤ 2 ulp).
// Below -87.3 the result is 0 exactly (so -Infinity masks give exact zeros); NaN stays NaN.
static v128_t exp_nonpositive(v128_t x) {
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

static float exp_scalar(float x) { return wasm_f32x4_extract_lane(exp_nonpositive(wasm_f32x4_splat(x)), 0); }

static void softmax_row(const float *x, float *y, int n) {
  v128_t vmax = wasm_f32x4_splat(-__builtin_inff());
  int i = 0;
  // NOTE: pmax may skip a NaN here; the NaN then poisons the row through exp and the sum anyway.
  for (; i + 4 <= n; i += 4) vmax = wasm_f32x4_pmax(vmax, wasm_v128_load(x + i));
  vmax = wasm_f32x4_pmax(vmax, wasm_i32x4_shuffle(vmax, vmax, 2, 3, 0, 1));
  vmax = wasm_f32x4_pmax(vmax, wasm_i32x4_shuffle(vmax, vmax, 1, 0, 3, 2));
  float m = wasm_f32x4_extract_lane(vmax, 0);
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  v128_t vm = wasm_f32x4_splat(m);
  v128_t vsum = wasm_f32x4_splat(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(x + i), vm));
    wasm_v128_store(y + i, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  float sum = wasm_f32x4_extract_lane(vsum, 0) + wasm_f32x4_extract_lane(vsum, 1) +
              wasm_f32x4_extract_lane(vsum, 2) + wasm_f32x4_extract_lane(vsum, 3);
  for (; i < n; i++) {
    float e = exp_scalar(x[i] - m);
    y[i] = e;
    sum += e;
  }
  float inv = 1.0f / sum;
  v128_t vinv = wasm_f32x4_splat(inv);
  i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(y + i), vinv));
  for (; i < n; i++) y[i] *= inv;
}

void softmax_job(const SoftmaxJob *job) {
  for (int r = job->row0; r < job->row1; r++) softmax_row(job->x + r * job->cols, job->y + r * job->cols, job->cols);
}
