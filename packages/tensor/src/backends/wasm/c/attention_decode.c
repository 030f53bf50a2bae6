// Attention for a few query rows (KV-cache decoding) in WebAssembly SIMD128: per query row q·Kᵀ, a stable softmax and p·V, reading K/V in place.

#include "simd.h"

/** One thread's query rows of a small-T attention; every field is 4 bytes, mirrored by attention-decode.ts. */
typedef struct AttnDecodeJob {
  int32_t heads, kv_heads, rows, keys, dim;  // H, Hkv (divides H), T, S, D
  int32_t causal, position_offset;           // query row i sits at position i + position_offset
  float scale;                               // multiplier of q·k
  const float *q;                            // (B, H, T, D) row-major
  const float *k;                            // (B·Hkv) blocks of (S, D) row-major, k_stride floats apart
  const float *v;                            // like k, v_stride floats apart
  int32_t k_stride, v_stride;
  const float *slopes;                       // H ALiBi slopes, or null
  float *out;                                // (B, H, T, D) row-major
  float *stats;                              // (B, H, T, 2): the row's max score and Σ exp(score − max)
  float *scores;                             // this thread's scratch, ≥ S floats
  int32_t unit0, unit1;                      // this thread's rows of the (B·H·T) query rows
} AttnDecodeJob;

static inline float hsum(v128_t a) {
  return wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1) + wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3);
}

// scores[j] = scale · q·k_j for keys [0, n), four keys at a time (their sums reduced together).
static void dot_keys(const float *q, const float *k, int n, int d, float scale, float *scores) {
  int d4 = d & ~3;
  v128_t vscale = wasm_f32x4_splat(scale);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *k0 = k + j * d, *k1 = k0 + d, *k2 = k1 + d, *k3 = k2 + d;
    v128_t a0 = wasm_f32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    for (int x = 0; x < d4; x += 4) {
      v128_t qv = wasm_v128_load(q + x);
      a0 = MADD(a0, qv, wasm_v128_load(k0 + x));
      a1 = MADD(a1, qv, wasm_v128_load(k1 + x));
      a2 = MADD(a2, qv, wasm_v128_load(k2 + x));
      a3 = MADD(a3, qv, wasm_v128_load(k3 + x));
    }
    // Transpose-add: lane c of r is the full sum of a_c.
    v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    v128_t r = wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
    if (d4 < d) {
      float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
      for (int x = d4; x < d; x++) { t0 += q[x] * k0[x]; t1 += q[x] * k1[x]; t2 += q[x] * k2[x]; t3 += q[x] * k3[x]; }
      r = wasm_f32x4_add(r, wasm_f32x4_make(t0, t1, t2, t3));
    }
    wasm_v128_store(scores + j, wasm_f32x4_mul(r, vscale));
  }
  for (; j < n; j++) {
    const float *kj = k + j * d;
    v128_t a = wasm_f32x4_splat(0);
    for (int x = 0; x < d4; x += 4) a = MADD(a, wasm_v128_load(q + x), wasm_v128_load(kj + x));
    float t = hsum(a);
    for (int x = d4; x < d; x++) t += q[x] * kj[x];
    scores[j] = t * scale;
  }
}

// out = Σ_j p_j · v_j over keys [0, n), four keys per pass over the output row.
static void mix_values(const float *p, const float *v, int n, int d, float *out) {
  int d4 = d & ~3;
  for (int x = 0; x < d; x++) out[x] = 0;
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *v0 = v + j * d, *v1 = v0 + d, *v2 = v1 + d, *v3 = v2 + d;
    v128_t p0 = wasm_f32x4_splat(p[j]), p1 = wasm_f32x4_splat(p[j + 1]), p2 = wasm_f32x4_splat(p[j + 2]), p3 = wasm_f32x4_splat(p[j + 3]);
    for (int x = 0; x < d4; x += 4) {
      v128_t o = wasm_v128_load(out + x);
      o = MADD(o, p0, wasm_v128_load(v0 + x));
      o = MADD(o, p1, wasm_v128_load(v1 + x));
      o = MADD(o, p2, wasm_v128_load(v2 + x));
      o = MADD(o, p3, wasm_v128_load(v3 + x));
      wasm_v128_store(out + x, o);
    }
    for (int x = d4; x < d; x++) out[x] += p[j] * v0[x] + p[j + 1] * v1[x] + p[j + 2] * v2[x] + p[j + 3] * v3[x];
  }
  for (; j < n; j++) {
    const float *vj = v + j * d;
    v128_t pj = wasm_f32x4_splat(p[j]);
    for (int x = 0; x < d4; x += 4) wasm_v128_store(out + x, MADD(wasm_v128_load(out + x), pj, wasm_v128_load(vj + x)));
    for (int x = d4; x < d; x++) out[x] += p[j] * vj[x];
  }
}

// In place p_j = exp(s_j − max) over [0, n); returns Σ p_j and writes the max to *max_out.
static float exp_row(float *s, int n, float *max_out) {
  float m = -__builtin_inff();
  for (int j = 0; j < n; j++) m = (s[j] > m || s[j] != s[j]) ? s[j] : m;
  *max_out = m;
  if (m == -__builtin_inff()) return 0;
  v128_t vm = wasm_f32x4_splat(m);
  v128_t vsum = wasm_f32x4_splat(0);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(s + j), vm));
    wasm_v128_store(s + j, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  float sum = hsum(vsum);
  for (; j < n; j++) {
    float e = wasm_f32x4_extract_lane(exp_nonpositive(wasm_f32x4_splat(s[j] - m)), 0);
    s[j] = e;
    sum += e;
  }
  return sum;
}

void attention_decode_job(const AttnDecodeJob *job) {
  int h = job->heads, t = job->rows, s = job->keys, d = job->dim;
  int group = h / job->kv_heads;
  for (int u = job->unit0; u < job->unit1; u++) {
    int i = u % t, bh = u / t, head = bh % h, b = bh / h;
    int n = b * job->kv_heads + head / group;  // (b, kvh) block
    int qpos = i + job->position_offset;
    int visible = job->causal ? (qpos + 1 < 0 ? 0 : (qpos + 1 > s ? s : qpos + 1)) : s;
    const float *q = job->q + (int64_t)u * d;
    const float *k = job->k + (int64_t)n * job->k_stride;
    const float *v = job->v + (int64_t)n * job->v_stride;
    float *out = job->out + (int64_t)u * d;
    float *sc = job->scores;
    dot_keys(q, k, visible, d, job->scale, sc);
    float slope = job->slopes ? job->slopes[head] : 0;
    if (slope != 0) {
      for (int j = 0; j < visible; j++) sc[j] -= slope * (float)(qpos > j ? qpos - j : j - qpos);
    }
    float m;
    float sum = exp_row(sc, visible, &m);
    if (sum == 0 && m == -__builtin_inff()) {
      for (int x = 0; x < d; x++) out[x] = 0;
    } else {
      mix_values(sc, v, visible, d, out);
      float inv = 1.0f / sum;
      for (int x = 0; x < d; x++) out[x] *= inv;
    }
    job->stats[2 * u] = m;
    job->stats[2 * u + 1] = sum;
  }
}
