// Model FLOPs utilization: achieved training FLOP/s over the hardware's peak.

/**
 * Peak FLOP/s of one CPU core running WebAssembly SIMD128 with fused multiply-add, as measured
 * by a peak probe on the development machine (DESIGN.md: ~44 GFLOP/s per core). Pass your own
 * `peakFlops` where you know better.
 */
export const WASM_SIMD_PEAK_FLOPS_PER_CORE = 44e9;

/**
 * MFU as PaLM defines it: `flopsPerToken · tokensPerSecond / peakFlops`, where flopsPerToken
 * counts forward + backward (≈ 6N + 12·L·T·C, what @lmkit/model's `flopsPerToken` returns).
 *
 * @example
 * estimateMfu({ flopsPerToken: 6 * 1e6, tokensPerSecond: 2000, peakFlops: 88e9 }); // 0.136
 */
export function estimateMfu(options: {
  /** Training FLOPs per token (forward + backward). */
  flopsPerToken: number;
  /** Measured throughput. */
  tokensPerSecond: number;
  /** Peak FLOP/s of the hardware used. Default 44e9 × 2 cores. */
  peakFlops?: number;
}): number {
  const peak = options.peakFlops ?? 2 * WASM_SIMD_PEAK_FLOPS_PER_CORE;
  return (options.flopsPerToken * options.tokensPerSecond) / peak;
}
