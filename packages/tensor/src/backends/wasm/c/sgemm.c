// Packed, cache-blocked single-precision GEMM for WebAssembly SIMD128: C = op(A)·op(B) (+ C).
//
// Layout follows GotoBLAS/BLIS: the (kc × nc) block of op(B) is packed into NR-wide column
// panels, the (mc × kc) block of op(A) into MR-tall row panels, and a 4×8 register micro-kernel
// (8 f32x4 accumulators) walks the panels. Transposed operands are absorbed by the packing
// routines, so callers never copy. NOTE: this file must not touch the C shadow stack or any
// static data: every worker thread instantiates the same module over one shared memory, so
// each thread's scratch space arrives in its job descriptor instead.

#include "simd.h"

// NOTE: 4×8 (8 accumulators) rather than 6×8: V8 gives wasm 15 xmm registers on x86 and its
// scheduler hoists the broadcasts, so a 6×8 or 5×8 tile spills an accumulator every step.
#define MR 4
#define NR 8
_Static_assert(MR == 4, "pack_a transposes 4 × 4 blocks in registers");
#define MC 128  // rows of A per packed block (multiple of MR); 128×256×4 B = 128 KiB, in L2
#define KC 256  // depth per packed block; a B micro-panel (KC × NR) is 8 KiB, in L1
#define NC 2048 // columns of B per packed block (multiple of NR); 256×2048×4 B = 2 MiB


/** One thread's share of a (batched) sgemm; every field is 4 bytes, mirrored by sgemm.ts. */
typedef struct SgemmJob {
  int32_t m, n, k;
  const float *a; int32_t lda, trans_a;
  const float *b; int32_t ldb, trans_b;
  float *c; int32_t ldc, beta;
  int32_t batch0, batch1, stride_a, stride_b, stride_c; // batch range and element strides
  int32_t row0, row1, col0, col1;                        // the block of C this thread owns
  float *scratch;                                        // sgemm_scratch_floats() floats, this thread's own
} SgemmJob;

// Transposes the 4×4 block whose rows are r0..r3 (in place: on return r0 holds column 0, ...).
#define TRANSPOSE4(r0, r1, r2, r3)                          \
  do {                                                      \
    v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);     \
    v128_t t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);     \
    v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);     \
    v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);     \
    r0 = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);            \
    r1 = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);            \
    r2 = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);            \
    r3 = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);            \
  } while (0)

// Packs op(A)[i0 : i0+mc, p0 : p0+kc] into MR-row panels, zero-padding the last panel.
static void pack_a(const float *a, int lda, int trans, int i0, int p0, int mc, int kc, float *dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    int mr = mc - ir < MR ? mc - ir : MR;
    if (!trans) {
      const float *src = a + (i0 + ir) * lda + p0;
      if (mr == MR) {
        // MR = 4: four rows × four depth steps at a time, transposed in registers.
        const float *s0 = src, *s1 = src + lda, *s2 = src + 2 * lda, *s3 = src + 3 * lda;
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
          v128_t r0 = wasm_v128_load(s0 + p), r1 = wasm_v128_load(s1 + p);
          v128_t r2 = wasm_v128_load(s2 + p), r3 = wasm_v128_load(s3 + p);
          TRANSPOSE4(r0, r1, r2, r3);
          wasm_v128_store(dst, r0);
          wasm_v128_store(dst + 4, r1);
          wasm_v128_store(dst + 8, r2);
          wasm_v128_store(dst + 12, r3);
          dst += 16;
        }
        for (; p < kc; p++) {
          dst[0] = s0[p]; dst[1] = s1[p]; dst[2] = s2[p]; dst[3] = s3[p];
          dst += MR;
        }
      } else {
        for (int p = 0; p < kc; p++) {
          for (int r = 0; r < MR; r++) dst[r] = r < mr ? src[r * lda + p] : 0.0f;
          dst += MR;
        }
      }
    } else {
      // op(A)(i, p) = A[p, i]: each depth step reads mr contiguous values.
      const float *src = a + p0 * lda + i0 + ir;
      for (int p = 0; p < kc; p++) {
        const float *row = src + p * lda;
        for (int r = 0; r < MR; r++) dst[r] = r < mr ? row[r] : 0.0f;
        dst += MR;
      }
    }
  }
}

// Packs op(B)[p0 : p0+kc, j0 : j0+nc] into NR-column panels, zero-padding the last panel.
static void pack_b(const float *b, int ldb, int trans, int p0, int j0, int kc, int nc, float *dst) {
  for (int jr = 0; jr < nc; jr += NR) {
    int nr = nc - jr < NR ? nc - jr : NR;
    if (!trans) {
      const float *src = b + p0 * ldb + j0 + jr;
      if (nr == NR) {
        for (int p = 0; p < kc; p++) {
          const float *row = src + p * ldb;
          wasm_v128_store(dst, wasm_v128_load(row));
          wasm_v128_store(dst + 4, wasm_v128_load(row + 4));
          dst += NR;
        }
      } else {
        for (int p = 0; p < kc; p++) {
          const float *row = src + p * ldb;
          for (int j = 0; j < NR; j++) dst[j] = j < nr ? row[j] : 0.0f;
          dst += NR;
        }
      }
    } else {
      // op(B)(p, j) = B[j, p]: each of the nr source rows is contiguous in p.
      const float *src = b + (j0 + jr) * ldb + p0;
      if (nr == NR) {
        // Two 4×4 register transposes per four depth steps (columns 0-3 and 4-7).
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
          v128_t r0 = wasm_v128_load(src + p), r1 = wasm_v128_load(src + ldb + p);
          v128_t r2 = wasm_v128_load(src + 2 * ldb + p), r3 = wasm_v128_load(src + 3 * ldb + p);
          v128_t r4 = wasm_v128_load(src + 4 * ldb + p), r5 = wasm_v128_load(src + 5 * ldb + p);
          v128_t r6 = wasm_v128_load(src + 6 * ldb + p), r7 = wasm_v128_load(src + 7 * ldb + p);
          TRANSPOSE4(r0, r1, r2, r3);
          TRANSPOSE4(r4, r5, r6, r7);
          float *d = dst + p * NR;
          wasm_v128_store(d, r0); wasm_v128_store(d + 4, r4);
          wasm_v128_store(d + 8, r1); wasm_v128_store(d + 12, r5);
          wasm_v128_store(d + 16, r2); wasm_v128_store(d + 20, r6);
          wasm_v128_store(d + 24, r3); wasm_v128_store(d + 28, r7);
        }
        for (; p < kc; p++)
          for (int j = 0; j < NR; j++) dst[p * NR + j] = src[j * ldb + p];
        dst += kc * NR;
        continue;
      }
      for (int j = 0; j < NR; j++) {
        const float *col = src + j * ldb;
        if (j < nr) {
          for (int p = 0; p < kc; p++) dst[p * NR + j] = col[p];
        } else {
          for (int p = 0; p < kc; p++) dst[p * NR + j] = 0.0f;
        }
      }
      dst += kc * NR;
    }
  }
}

// The MR×8 register tile: C[0:MR, 0:8] (+)= Apanel(MR × kc) · Bpanel(kc × 8). The constant-bound
// loops unroll fully, so the accumulators live in wasm locals (machine registers under V8).
__attribute__((noinline))
static void kernel(int kc, const float *pa, const float *pb, float *c, int ldc, int accumulate) {
  v128_t acc[MR][2];
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0);
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
    for (int r = 0; r < MR; r++) {
      v128_t a = wasm_v128_load32_splat(pa + r);
      acc[r][0] = MADD(acc[r][0], a, b0);
      acc[r][1] = MADD(acc[r][1], a, b1);
    }
    pa += MR;
    pb += NR;
  }
  for (int r = 0; r < MR; r++) {
    float *cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_v128_load(cr));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_v128_load(cr + 4));
    }
    wasm_v128_store(cr, acc[r][0]);
    wasm_v128_store(cr + 4, acc[r][1]);
  }
}

// Computes one batch item's block C[row0:row1, col0:col1].
static void sgemm_block(const SgemmJob *job, const float *a, const float *b, float *c) {
  int k = job->k;
  float *packed_a = job->scratch, *packed_b = packed_a + MC * KC, *edge = packed_b + KC * NC;
  for (int jc = job->col0; jc < job->col1; jc += NC) {
    int nc = job->col1 - jc < NC ? job->col1 - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      int accumulate = pc > 0 || job->beta != 0;
      pack_b(b, job->ldb, job->trans_b, pc, jc, kc, nc, packed_b);
      for (int ic = job->row0; ic < job->row1; ic += MC) {
        int mc = job->row1 - ic < MC ? job->row1 - ic : MC;
        pack_a(a, job->lda, job->trans_a, ic, pc, mc, kc, packed_a);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = nc - jr < NR ? nc - jr : NR;
          const float *pb = packed_b + jr * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            const float *pa = packed_a + ir * kc;
            float *ct = c + (ic + ir) * job->ldc + jc + jr;
            if (mr == MR && nr == NR) {
              kernel(kc, pa, pb, ct, job->ldc, accumulate);
            } else {
              // Partial tile: compute into scratch, then add/copy the valid part.
              float *e = edge;
              kernel(kc, pa, pb, e, NR, 0);
              for (int r = 0; r < mr; r++)
                for (int j = 0; j < nr; j++)
                  ct[r * job->ldc + j] = accumulate ? ct[r * job->ldc + j] + e[r * NR + j] : e[r * NR + j];
            }
          }
        }
      }
    }
  }
}

// Matrix-vector path for blocks of fewer rows than the tile (m = 1 in token-by-token inference):
// packing all of B for one row would cost as much as the product, so B is read in place.

// c[0:n] (+)= a · B[0:k, 0:n], where a[p] = a[p * a_step] and B is row-major with row stride ldb.
// NOTE: an axpy over four B rows at a time: B streams row by row (prefetch-friendly) and the
// c chunk being summed stays in L1.
static void row_times_b(const float *a, int a_step, int k, const float *b, int ldb, float *c, int n, int accumulate) {
  if (!accumulate)
    for (int j = 0; j < n; j++) c[j] = 0.0f;
  int n4 = n & ~3;
  for (int j0 = 0; j0 < n; j0 += 1024) {
    int j1 = j0 + 1024 < n ? j0 + 1024 : n;
    int v1 = j1 < n4 ? j1 : n4;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
      float x0 = a[p * a_step], x1 = a[(p + 1) * a_step], x2 = a[(p + 2) * a_step], x3 = a[(p + 3) * a_step];
      v128_t a0 = wasm_f32x4_splat(x0), a1 = wasm_f32x4_splat(x1), a2 = wasm_f32x4_splat(x2), a3 = wasm_f32x4_splat(x3);
      const float *b0 = b + p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      int j = j0;
      for (; j < v1; j += 4) {
        v128_t acc = wasm_v128_load(c + j);
        acc = MADD(acc, a0, wasm_v128_load(b0 + j));
        acc = MADD(acc, a1, wasm_v128_load(b1 + j));
        acc = MADD(acc, a2, wasm_v128_load(b2 + j));
        acc = MADD(acc, a3, wasm_v128_load(b3 + j));
        wasm_v128_store(c + j, acc);
      }
      for (; j < j1; j++) c[j] += x0 * b0[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
    }
    for (; p < k; p++) {
      float x = a[p * a_step];
      const float *bp = b + p * ldb;
      for (int j = j0; j < j1; j++) c[j] += x * bp[j];
    }
  }
}

static float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// c[j] (+)= dot(a[0:k], B[j, 0:k]) for j < n: contiguous a, B rows of stride ldb (B used transposed).
static void row_dot_rows(const float *a, int k, const float *b, int ldb, float *c, int n, int accumulate) {
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
      v128_t av = wasm_v128_load(a + p);
      s0 = MADD(s0, av, wasm_v128_load(b0 + p));
      s1 = MADD(s1, av, wasm_v128_load(b1 + p));
      s2 = MADD(s2, av, wasm_v128_load(b2 + p));
      s3 = MADD(s3, av, wasm_v128_load(b3 + p));
    }
    float d0 = hsum(s0), d1 = hsum(s1), d2 = hsum(s2), d3 = hsum(s3);
    for (; p < k; p++) {
      d0 += a[p] * b0[p]; d1 += a[p] * b1[p]; d2 += a[p] * b2[p]; d3 += a[p] * b3[p];
    }
    c[j] = accumulate ? c[j] + d0 : d0;
    c[j + 1] = accumulate ? c[j + 1] + d1 : d1;
    c[j + 2] = accumulate ? c[j + 2] + d2 : d2;
    c[j + 3] = accumulate ? c[j + 3] + d3 : d3;
  }
  for (; j < n; j++) {
    const float *bj = b + j * ldb;
    v128_t s0 = wasm_f32x4_splat(0);
    int p = 0;
    for (; p + 4 <= k; p += 4) s0 = MADD(s0, wasm_v128_load(a + p), wasm_v128_load(bj + p));
    float d = hsum(s0);
    for (; p < k; p++) d += a[p] * bj[p];
    c[j] = accumulate ? c[j] + d : d;
  }
}

// The rows [row0, row1) of one batch item, one row at a time with B in place; returns 0 if this path does not apply.
static int sgemm_rows_direct(const SgemmJob *job, const float *a, const float *b, float *c) {
  // NOTE: decided on the whole product's m, not this block's rows, so that every thread count
  // takes the same path and gives bit-identical results.
  if (job->m >= MR) return 0;
  int a_step = job->trans_a ? job->lda : 1;
  if (job->trans_b && a_step != 1) return 0;  // the dot-product form needs a contiguous row of op(A)
  int n = job->col1 - job->col0;
  for (int i = job->row0; i < job->row1; i++) {
    const float *ai = job->trans_a ? a + i : a + i * job->lda;
    float *ci = c + i * job->ldc + job->col0;
    if (job->trans_b) row_dot_rows(ai, job->k, b + job->col0 * job->ldb, job->ldb, ci, n, job->beta);
    else row_times_b(ai, a_step, job->k, b + job->col0, job->ldb, ci, n, job->beta);
  }
  return 1;
}

void sgemm_job(const SgemmJob *job) {
  if (job->row0 >= job->row1 || job->col0 >= job->col1) return;
  for (int t = job->batch0; t < job->batch1; t++) {
    float *c = job->c + t * job->stride_c;
    if (job->k == 0) {
      // An empty sum: C = 0 (or C unchanged when accumulating).
      if (!job->beta)
        for (int i = job->row0; i < job->row1; i++)
          for (int j = job->col0; j < job->col1; j++) c[i * job->ldc + j] = 0.0f;
      continue;
    }
    const float *a = job->a + t * job->stride_a, *b = job->b + t * job->stride_b;
    if (!sgemm_rows_direct(job, a, b, c)) sgemm_block(job, a, b, c);
  }
}

/** Scratch floats one thread needs (packed A, packed B, edge tile). */
__attribute__((export_name("sgemm_scratch_floats")))
int32_t sgemm_scratch_floats(void) { return MC * KC + KC * NC + MR * NR; }

/** Rows of the register tile (MR); thread splits of M fall on multiples of it. */
__attribute__((export_name("sgemm_tile_rows")))
int32_t sgemm_tile_rows(void) { return MR; }
