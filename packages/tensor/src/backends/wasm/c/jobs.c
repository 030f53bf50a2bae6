// The one entry point the kernel threads call: runs the job descriptor at `job` by its kind.

#include "simd.h"

/** Runs the job whose descriptor is at `job`: word 0 is the kind, the kernel's struct follows. */
__attribute__((export_name("run_job")))
void run_job(const int32_t *job) {
  switch (job[0]) {
    case JOB_SGEMM: sgemm_job((const struct SgemmJob *)(job + 1)); break;
    case JOB_SOFTMAX: softmax_job((const struct SoftmaxJob *)(job + 1)); break;
    case JOB_GELU: gelu_job((const struct GeluJob *)(job + 1)); break;
    case JOB_GELU_GRAD: gelu_grad_job((const struct GeluJob *)(job + 1)); break;
    case JOB_ATTENTION_DECODE: attention_decode_job((const struct AttnDecodeJob *)(job + 1)); break;
    default: __builtin_trap();
  }
}
