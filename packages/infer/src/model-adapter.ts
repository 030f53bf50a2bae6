// Adapts an @lmkit/model DecoderLM to generation and evaluation, optionally with q8_0/q4_0 linear layers.
import { KVCache, Linear, type DecoderLM, type Module } from '@lmkit/model';
import { matmul, noGrad, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import type { SequenceScorer } from './eval.js';
import type { BatchCausalLM } from './generate-batch.js';
import { InferError } from './errors.js';
import { quantize, type QuantFormat, type QuantizedMatrix } from './quant/formats.js';
import { quantizedMatmul, type QuantKernel } from './quant/matmul.js';

/** A DecoderLM seen as a {@link BatchCausalLM} (so also a CausalLM) and a {@link SequenceScorer}. */
export interface ModelRunner extends BatchCausalLM, SequenceScorer {
  /** The wrapped model. */
  readonly model: DecoderLM;
  /** The quantization in effect, or null for f32. */
  readonly quantization: QuantFormat | null;
}

/** Options of {@link fromDecoderLM}. */
export interface RunnerOptions {
  /**
   * Quantize every Linear layer and the LM head to this format (embeddings and norms stay f32).
   * The runner then owns the model: its Linear layers compute on the quantized weights from now on.
   * Default null.
   */
  quantization?: QuantFormat | null;
  /** Kernel for quantized products. Default 'auto'. */
  kernel?: QuantKernel;
  /** Already quantized weights by Linear path (`blocks.0.attn.qkv`, and `head` for the LM head), e.g. from a GGUF file. */
  prequantized?: Map<string, QuantizedMatrix>;
}

function linears(module: Module, prefix = '', out: Array<[string, Linear]> = []): Array<[string, Linear]> {
  if (module instanceof Linear) out.push([prefix, module]);
  for (const [name, child] of module.namedChildren()) linears(child, prefix ? `${prefix}.${name}` : name, out);
  return out;
}

/** (…, in) through a quantized weight (out, in) plus bias → (…, out), without autograd. */
function quantizedLinear(x: Tensor, q: QuantizedMatrix, bias: Float32Array | undefined, kernel: QuantKernel): Tensor {
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((a, b) => a * b, 1);
  const y = quantizedMatmul(x.data() as Float32Array, rows, q, bias, undefined, kernel);
  return tensor(y, [...lead, q.rows]);
}

/**
 * Wraps a DecoderLM for inference: `nextLogits` runs the trunk with a KV cache and computes only the
 * last position's logits (the head is the costliest matmul at prefill); ids beyond the real
 * vocabulary (padding) are masked out. With `quantization`, Linear layers compute on q8_0/q4_0 codes.
 */
export function fromDecoderLM(model: DecoderLM, options: RunnerOptions = {}): ModelRunner {
  model.eval();
  const pre = options.prequantized;
  const format = options.quantization ?? pre?.values().next().value?.format ?? null;
  const kernel = options.kernel ?? 'auto';
  const V = model.spec.realVocabSize;
  const Vp = model.spec.vocabSize;
  let head: (h: Tensor) => Tensor; // (N, C) → (N, Vp)
  if (format) {
    const quantOf = (path: string, weight: Tensor, rows: number, cols: number): QuantizedMatrix | null =>
      pre ? (pre.get(path) ?? null) : cols % 32 === 0 ? quantize(weight.data() as Float32Array, rows, cols, format) : null; // NOTE: like llama.cpp, rows not a multiple of 32 long stay f32
    for (const [path, linear] of linears(model)) {
      const q = quantOf(path, linear.weight, linear.outFeatures, linear.inFeatures);
      if (!q) continue;
      const bias = linear.bias ? (linear.bias.data() as Float32Array) : undefined;
      // NOTE: an own-property forward shadows Linear.prototype.forward for this instance only.
      linear.forward = (x: Tensor) => quantizedLinear(x, q, bias, kernel);
    }
    const headWeight = model.head ? null : quantOf('head', model.embed.weight, Vp, model.spec.dModel);
    head = headWeight
      ? (h) => quantizedLinear(h, headWeight, undefined, kernel)
      : model.head
        ? (h) => (model.head as Linear).forward(h)
        : (h) => matmul(h, model.embed.weight, { transB: true });
  } else {
    head = model.head ? (h) => (model.head as Linear).forward(h) : (h) => matmul(h, model.embed.weight, { transB: true });
  }

  const toRows = (logits: Tensor, n: number): Float32Array => {
    const data = logits.data() as Float32Array;
    if (Vp === V) return Float32Array.from(data);
    const out = new Float32Array(n * V);
    for (let i = 0; i < n; i++) out.set(data.subarray(i * Vp, i * Vp + V), i * V);
    return out;
  };

  // ids (B·T) → last-position logits (B·V) through one forward; the cache (if any) is extended in place.
  const lastLogits = (ids: Int32Array, B: number, mask: Uint8Array | null, kv: KVCache | null): Float32Array =>
    noGrad(() =>
      scope(() => {
        const T = ids.length / B;
        const S = (kv?.length ?? 0) + T;
        // NOTE: an all-ones mask is left out, so equal-length batches keep the fused attention op.
        const attentionMask = mask && mask.includes(0) ? tensor(Float32Array.from(mask), [B, S]) : undefined;
        const h = model.hiddenStates(tensor(ids, [B, T], { dtype: 'i32' }), { ...(kv ? { cache: kv } : {}), ...(attentionMask ? { attentionMask } : {}) }); // (B, T, C)
        const last = reshape(slice(h, 1, T - 1, T), [B, model.spec.dModel]); // (B, C)
        return toRows(head(last), B);
      }),
    );

  return {
    model,
    quantization: format,
    vocabSize: V,
    contextLength: model.spec.maxPositions,
    newCache: (capacity?: number) => new KVCache(model.spec.nLayer, { capacity: Math.min(capacity ?? model.spec.maxPositions, model.spec.maxPositions) }),
    nextLogits(ids: Int32Array, cache: unknown): Float32Array {
      return lastLogits(ids, 1, null, cache as KVCache | null);
    },
    newBatchCache: (_batch: number, capacity: number) => new KVCache(model.spec.nLayer, { capacity: Math.min(capacity, model.spec.maxPositions) }),
    nextLogitsBatch(ids: Int32Array, batch: number, attentionMask: Uint8Array, cache: unknown): Float32Array {
      const kv = cache as KVCache;
      if (attentionMask.length !== batch * (kv.length + ids.length / batch)) {
        throw new InferError('INFER_BAD_INPUT', `attention mask has ${attentionMask.length} entries, expected ${batch} × ${kv.length + ids.length / batch}`, { hint: 'the mask covers the cached positions and the new ones of every sequence' });
      }
      return lastLogits(ids, batch, attentionMask, kv);
    },
    keepRows(cache: unknown, rows: readonly number[]): void {
      noGrad(() => scope(() => (cache as KVCache).keepRows(rows)));
    },
    joinRows(cache: unknown, other: unknown, leftPad: number): void {
      noGrad(() => scope(() => (cache as KVCache).joinRows(other as KVCache, leftPad)));
      (other as KVCache).clear();
    },
    logitsAll(ids: Int32Array): Float32Array {
      return noGrad(() =>
        scope(() => {
          const T = ids.length;
          const h = model.hiddenStates(tensor(ids, [1, T], { dtype: 'i32' })); // (1, T, C)
          return toRows(head(reshape(h, [T, model.spec.dModel])), T);
        }),
      );
    },
  };
}
