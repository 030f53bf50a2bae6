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

/** Job kinds, the first word of every job descriptor (mirrored by kernel-jobs.ts). */
enum { JOB_SGEMM = 1, JOB_SOFTMAX = 2 };

/** Runs one thread's share of a batched sgemm (sgemm.c). */
struct SgemmJob;
void sgemm_job(const struct SgemmJob *job);
/** Runs one thread's rows of a row softmax (softmax.c). */
struct SoftmaxJob;
void softmax_job(const struct SoftmaxJob *job);
