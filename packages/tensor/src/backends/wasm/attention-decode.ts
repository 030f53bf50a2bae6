// Small-T attention (KV-cache decoding) on the WebAssembly SIMD kernels: one job per thread over the (B·H·T) query rows.
import { getRuntime, JOB_ATTENTION_DECODE, runJobs, threadsFor } from './wasm-runtime';
import { WasmKernelError } from './wasm-kernel-error';

/**
 * Arguments of {@link attentionDecode}: for every query row (b, h, i), scores q·k_j·scale (− slope·|pos − j|)
 * over the visible keys of K/V block (b, h / (H / Hkv)), a stable softmax, and out = p·V.
 */
export interface AttentionDecodeArgs {
  /** Queries (B, H, T, D), row-major from index 0. */
  q: Float32Array;
  /** Keys: B·Hkv blocks of (S, D) row-major, the first at kOffset, `kStride` elements apart. */
  k: Float32Array;
  /** Index of the first key block's first element. */
  kOffset: number;
  /** Elements between consecutive (b, kvh) key blocks (≥ S·D). */
  kStride: number;
  /** Values, laid out like k. */
  v: Float32Array;
  /** Index of the first value block's first element. */
  vOffset: number;
  /** Elements between consecutive (b, kvh) value blocks (≥ S·D). */
  vStride: number;
  /** Output (B, H, T, D), row-major from index 0. */
  out: Float32Array;
  /** Output (B, H, T, 2): each row's largest score and Σ exp(score − largest) (0 when no key is visible). */
  stats: Float32Array;
  /** Batch B. */
  batch: number;
  /** Query heads H. */
  heads: number;
  /** Key/value heads Hkv (divides H). */
  kvHeads: number;
  /** Query rows T. */
  rows: number;
  /** Keys S. */
  keys: number;
  /** Head size D. */
  dim: number;
  /** Mask keys after the query's position. */
  causal: boolean;
  /** Position of query row 0 relative to key 0. */
  positionOffset: number;
  /** Multiplier of q·k. */
  scale: number;
  /** Per-head ALiBi slopes (length H), or null. */
  slopes: Float32Array | null;
}

/**
 * Below this many multiply-adds (B·H·T·S·D) a call runs on the calling thread only: a one-sequence decode step
 * (gpt2-124m: 12 heads × 64 up to S ≈ 5000) streams K/V from memory in well under a millisecond per layer, and a
 * CPU profile of q8_0 decoding on the loaded 2-core machine showed the caller waiting ~10 ms per token for its
 * worker's half (the other core busy with the GEMV workers) — more than the whole single-threaded kernel took.
 */
export const ATTENTION_DECODE_PARALLEL_MIN = 1 << 22;

/** Most keys one call handles (the scores of a row live in the thread's scratch); more → use the tiled kernel. */
export function attentionDecodeMaxKeys(): number {
  return getRuntime().scratchFloats;
}

/**
 * Runs the small-T attention synchronously (call after initWasmKernels). Arrays inside the wasm memory are
 * read and written in place; others are staged. NaN scores give NaN rows; a row with no visible key gives
 * zeros and stats (−∞, 0).
 *
 * @example
 * attentionDecode({ q, k: cacheK, kOffset: 0, kStride: capacity * 64, v: cacheV, vOffset: 0, vStride: capacity * 64,
 *   out, stats, batch: 1, heads: 12, kvHeads: 12, rows: 1, keys: 513, dim: 64, causal: true, positionOffset: 512,
 *   scale: 0.125, slopes: null });
 */
export function attentionDecode(args: AttentionDecodeArgs): void {
  const rt = getRuntime();
  const { batch, heads, kvHeads, rows, keys, dim } = args;
  for (const [name, value] of [['batch', batch], ['heads', heads], ['kvHeads', kvHeads], ['rows', rows], ['keys', keys], ['dim', dim], ['kOffset', args.kOffset], ['vOffset', args.vOffset], ['kStride', args.kStride], ['vStride', args.vStride]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `attentionDecode: ${name} must be a non-negative integer, got ${String(value)}`);
  }
  if (kvHeads === 0 || heads % kvHeads !== 0) throw new WasmKernelError('TENSOR_SHAPE_MISMATCH', `attentionDecode: kvHeads ${kvHeads} must divide heads ${heads}`);
  if (keys > rt.scratchFloats) throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `attentionDecode: ${keys} keys exceed the ${rt.scratchFloats} a call can hold`, { hint: 'use the tiled attention kernel for long key ranges' });
  const units = batch * heads * rows;
  const blocks = batch * kvHeads;
  const qLen = units * dim;
  const kvLen = (stride: number): number => (blocks === 0 ? 0 : (blocks - 1) * stride + keys * dim);
  const checks: [string, Float32Array, number][] = [
    ['q', args.q, qLen], ['out', args.out, qLen], ['stats', args.stats, 2 * units],
    ['k', args.k, args.kOffset + kvLen(args.kStride)], ['v', args.v, args.vOffset + kvLen(args.vStride)],
  ];
  if (args.slopes !== null) checks.push(['slopes', args.slopes, heads]);
  for (const [name, array, need] of checks) {
    if (!(array instanceof Float32Array)) throw new WasmKernelError('TENSOR_BAD_ARGUMENT', `attentionDecode: ${name} must be a Float32Array`);
    if (array.length < need) throw new WasmKernelError('TENSOR_INDEX_OUT_OF_RANGE', `attentionDecode: ${name} needs ${need} elements, it has ${array.length}`);
  }
  if (units === 0) return;
  const { heap } = rt;
  const staged: number[] = [];
  // The byte address of array[offset..offset+length) inside the wasm memory, staging a copy (filled when `fill`).
  const place = (array: Float32Array, offset: number, length: number, fill: boolean): number => {
    if (heap.owns(array)) return array.byteOffset + 4 * offset;
    const at = heap.alloc(Math.max(4, 4 * length));
    staged.push(at);
    if (fill) heap.f32(at, length).set(array.subarray(offset, offset + length));
    return at;
  };
  try {
    const q = place(args.q, 0, qLen, true);
    const k = place(args.k, args.kOffset, kvLen(args.kStride), true);
    const v = place(args.v, args.vOffset, kvLen(args.vStride), true);
    const slopes = args.slopes === null ? 0 : place(args.slopes, 0, heads, true);
    const out = place(args.out, 0, qLen, false);
    const stats = place(args.stats, 0, 2 * units, false);
    const threads = Math.min(threadsFor(rt, units * keys * dim, ATTENTION_DECODE_PARALLEL_MIN), units);
    const scaleBits = new Int32Array(new Float32Array([args.scale]).buffer)[0];
    const jobs: number[] = [];
    for (let t = 0; t < threads; t++) {
      const ctx = rt.contexts[t];
      const unit0 = Math.round((t * units) / threads);
      const unit1 = Math.round(((t + 1) * units) / threads);
      heap.i32(ctx.job, 20).set([
        JOB_ATTENTION_DECODE, heads, kvHeads, rows, keys, dim, args.causal ? 1 : 0, args.positionOffset, scaleBits,
        q, k, v, args.kStride, args.vStride, slopes, out, stats, ctx.scratch, unit0, unit1,
      ]);
      jobs.push(ctx.job);
    }
    runJobs(rt, jobs);
    if (!heap.owns(args.out)) args.out.set(heap.f32(out, qLen));
    if (!heap.owns(args.stats)) args.stats.set(heap.f32(stats, 2 * units));
  } finally {
    for (const at of staged) heap.release(at);
  }
}
