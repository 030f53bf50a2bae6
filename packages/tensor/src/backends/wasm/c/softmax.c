// Row softmax for WebAssembly SIMD128: y = exp(x - max(x)) / Σ exp(x - max(x)) per row, with a vector exp.

#include "simd.h"

/** One thread's rows of a (rows × cols) softmax; every field is 4 bytes, mirrored by softmax.ts. */
typedef struct SoftmaxJob {
  int32_t rows, cols;
  const float *x;  // (rows × cols), row-major, contiguous
  float *y;        // (rows × cols); may equal x
  int32_t row0, row1;
} SoftmaxJob;

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
