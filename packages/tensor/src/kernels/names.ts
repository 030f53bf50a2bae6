// The kernel names every backend implements and their exact signatures (tinygrad-style primitives + fused kernels).
import type { Dtype, Storage, View } from '../backend.js';

/** Options of the fused attention kernels. */
export interface AttentionKernelOptions {
  /** Mask key positions after the query's position (query i sits at position i + positionOffset). */
  causal: boolean;
  /** Multiplier of q·k (usually 1/√D). */
  scale: number;
  /** Position of the first query relative to the first key (KV-cache decoding: S − T). */
  positionOffset: number;
  /** Per-head ALiBi slopes (length H): adds −slope·|qpos − kpos| to each score; null for none. */
  alibiSlopes: Float32Array | null;
}

/**
 * Conventions (the engine guarantees them before calling a kernel):
 * - Every kernel returns fresh contiguous (row-major, offset 0) storage it allocated.
 * - "strided" arguments may have any strides (0 for broadcast dims, swapped for transposes)
 *   and any offset; "contiguous" ones are row-major with offset 0.
 * - Compute kernels see only f32 data (and i32 ids/targets); bf16/f16 pass through `cast` first.
 * - Shapes are already checked; kernels need not validate them.
 */
export interface KernelSignatures {
  // ---- memory ----
  /** New storage of `size` elements all equal to `value`. */
  fill(size: number, dtype: Dtype, value: number): Storage;
  /** Contiguous copy of a strided view (same dtype). */
  copy(x: View): Storage;
  /** Writes strided `src` into strided `dst` (same shape, same dtype); returns nothing. */
  assign(dst: View, src: View): void;
  /** Contiguous copy converted to `dtype` (f32 → bf16/f16 rounds to nearest even, keeps NaN/Inf). */
  cast(x: View, dtype: Dtype): Storage;

  // ---- unary, strided f32 → contiguous f32 of the same shape ----
  /** −x */ neg(x: View): Storage;
  /** eˣ */ exp(x: View): Storage;
  /** ln x */ log(x: View): Storage;
  /** √x */ sqrt(x: View): Storage;
  /** tanh x */ tanh(x: View): Storage;
  /** |x| */ abs(x: View): Storage;
  /** 1/(1+e⁻ˣ) */ sigmoid(x: View): Storage;
  /** max(x, 0) */ relu(x: View): Storage;
  /** GELU, tanh approximation: 0.5x(1+tanh(√(2/π)(x+0.044715x³))). */ gelu(x: View): Storage;
  /** GELU, exact: 0.5x(1+erf(x/√2)). */ gelu_erf(x: View): Storage;
  /** x·sigmoid(x) */ silu(x: View): Storage;

  // ---- unary backward: dx = dy·f'(x), both strided, same shape ----
  /** dy·[x > 0] */ relu_grad(x: View, dy: View): Storage;
  /** dy·gelu'(x), tanh approximation */ gelu_grad(x: View, dy: View): Storage;
  /** dy·gelu'(x), exact */ gelu_erf_grad(x: View, dy: View): Storage;
  /** dy·silu'(x) */ silu_grad(x: View, dy: View): Storage;

  // ---- binary, strided f32 views already broadcast to the same (output) shape ----
  /** a + b */ add(a: View, b: View): Storage;
  /** a − b */ sub(a: View, b: View): Storage;
  /** a · b */ mul(a: View, b: View): Storage;
  /** a / b */ div(a: View, b: View): Storage;
  /** aᵇ (Math.pow semantics) */ pow(a: View, b: View): Storage;
  /** max(a, b), NaN if either is NaN */ maximum(a: View, b: View): Storage;
  /** 1 where a = b else 0 */ eq(a: View, b: View): Storage;
  /** 1 where a > b else 0 */ gt(a: View, b: View): Storage;

  // ---- reductions over one axis of a contiguous f32 view; the output drops that axis ----
  /** Σ along `axis`. */ sum(x: View, axis: number): Storage;
  /** max along `axis` (NaN propagates). */ max(x: View, axis: number): Storage;

  // ---- matmul ----
  /**
   * Batched matrix product. `a` is (...batch, M, K) and `b` is (...batch, K, N), both strided with
   * the same batch shape (broadcast batch dims have stride 0); a transposed operand arrives as a
   * view whose last two strides are swapped, so kernels can pick a transposed GEMM without a copy.
   * Returns contiguous (...batch, M, N).
   */
  matmul(a: View, b: View): Storage;

  // ---- fused, contiguous f32 over the last dim (rows = size / lastDim) ----
  /** softmax along the last dim. */ softmax(x: View): Storage;
  /** dx = y·(dy − Σ y·dy) given the softmax output y. */ softmax_grad(y: View, dy: View): Storage;
  /** log-softmax along the last dim. */ log_softmax(x: View): Storage;
  /** dx = dy − softmax·Σ dy given the log-softmax output y. */ log_softmax_grad(y: View, dy: View): Storage;
  /** LayerNorm over the last dim C: returns [y (…, C), mean (rows), rstd (rows)]; `b` may be null. */
  layernorm(x: View, w: View, b: View | null, eps: number): [Storage, Storage, Storage];
  /** LayerNorm backward: returns [dx (…, C), dw (C), db (C)]. */
  layernorm_grad(x: View, w: View, mean: View, rstd: View, dy: View): [Storage, Storage, Storage];
  /** RMSNorm over the last dim: returns [y, rstd (rows)]. */
  rmsnorm(x: View, w: View, eps: number): [Storage, Storage];
  /** RMSNorm backward: returns [dx, dw (C)]. */
  rmsnorm_grad(x: View, w: View, rstd: View, dy: View): [Storage, Storage];
  /**
   * Softmax cross-entropy: logits (N, V) f32, targets (N) i32. Returns [loss (N), lse (N)];
   * rows whose target is `ignoreIndex` get loss 0.
   */
  cross_entropy(logits: View, targets: View, ignoreIndex: number): [Storage, Storage];
  /** dlogits (N, V) = dloss[n]·(softmax − onehot), zero rows for ignored targets. */
  cross_entropy_grad(logits: View, targets: View, lse: View, dloss: View, ignoreIndex: number): Storage;
  /**
   * Fused attention: q (B, H, T, D), k and v (B, Hkv, S, D) with H % Hkv = 0 (query head h reads
   * kv head ⌊h / (H/Hkv)⌋). Returns [o (B, H, T, D), lse (B, H, T)] (natural-log logsumexp of scaled scores).
   */
  attention(q: View, k: View, v: View, opts: AttentionKernelOptions): [Storage, Storage];
  /** Attention backward, recomputing probabilities from lse: returns [dq, dk, dv] shaped like q, k, v. */
  attention_grad(q: View, k: View, v: View, o: View, lse: View, dout: View, opts: AttentionKernelOptions): [Storage, Storage, Storage];
  /**
   * Rotary embedding on x (B, H, T, D), pairs (i, i + D/2) (GPT-NeoX/LLaMA-HF layout), position
   * t + positionOffset; `inverse` rotates by the negative angle (the backward).
   */
  rope(x: View, positionOffset: number, theta: number, inverse: boolean): Storage;
  /** Gather rows: w (V, C) f32, ids (…) i32 → (…, C). */
  embedding(w: View, ids: View): Storage;
  /** Scatter-add: ids (…) i32, dy (…, C) → dw (vocab, C). */
  embedding_grad(ids: View, dy: View, vocab: number): Storage;
}

/** Every kernel name. */
export type KernelName = keyof KernelSignatures;

/** Unary kernels (strided f32 in, contiguous f32 out). */
export const UNARY_KERNELS = ['neg', 'exp', 'log', 'sqrt', 'tanh', 'abs', 'sigmoid', 'relu', 'gelu', 'gelu_erf', 'silu'] as const;
/** Unary backward kernels (x, dy). */
export const UNARY_GRAD_KERNELS = ['relu_grad', 'gelu_grad', 'gelu_erf_grad', 'silu_grad'] as const;
/** Binary kernels (broadcast strided a, b). */
export const BINARY_KERNELS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'eq', 'gt'] as const;
/** Reductions over one axis. */
export const REDUCE_KERNELS = ['sum', 'max'] as const;
/** Fused kernels. */
export const FUSED_KERNELS = [
  'softmax', 'softmax_grad', 'log_softmax', 'log_softmax_grad', 'layernorm', 'layernorm_grad', 'rmsnorm', 'rmsnorm_grad',
  'cross_entropy', 'cross_entropy_grad', 'attention', 'attention_grad', 'rope', 'embedding', 'embedding_grad',
] as const;

/** All kernel names, in a stable order (the conformance suite walks this list). */
export const KERNEL_NAMES: readonly KernelName[] = [
  'fill', 'copy', 'assign', 'cast', ...UNARY_KERNELS, ...UNARY_GRAD_KERNELS, ...BINARY_KERNELS, ...REDUCE_KERNELS, 'matmul', ...FUSED_KERNELS,
];
