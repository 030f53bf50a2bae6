// A model stage: what one pipeline stage (or a whole tensor-parallel replica) computes for a micro-batch, with its parameters — and the plain, unsplit stage.
import type { DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';

/** A parameter a stage trains (or keeps frozen at zero), and where its elements sit in the dense tensor. */
export interface StageParam {
  /** The dense parameter's name, e.g. `blocks.0.attn.qkv.weight`. */
  name: string;
  /** The tensor this rank computes with (the dense one, or its local slice). */
  tensor: Tensor;
  /** Split across the tensor-parallel group (its squares are summed over the group), or replicated (counted once). */
  sharded: boolean;
  /** False for a row-parallel bias on tensor-parallel ranks ≠ 0 (kept at zero: the bias is added once). */
  trainable: boolean;
  /** For split tensors: runs of [localOffset, denseOffset, length]. */
  runs?: [number, number, number][];
}

/** One micro-batch's forward on a stage, kept until its backward. */
export interface StageMicro {
  /** The activation (B, T, C) to send to the next stage; null on the stage that ends with the loss. */
  output: Float32Array | null;
  /** The micro-batch's mean loss (unscaled) on the last stage; NaN elsewhere. */
  loss: number;
  /** Backward from the gradient of `output` (null on the last stage); returns the gradient of the stage input (null on the first). */
  backward(gradOut: Float32Array | null): Promise<Float32Array | null>;
}

/** What a stage computes: the forward of one micro-batch, its parameters, and the dense view of them. */
export interface ModelStage {
  /** Every parameter the stage holds (trainable and frozen). */
  readonly params: readonly StageParam[];
  /**
   * Forward of one micro-batch: `input` is token ids (B·T) on the first stage, the previous
   * stage's activation (B·T·C) elsewhere; `targets` (B·T) are read on the last stage, whose loss
   * gradient is scaled by `lossScale`.
   */
  forward(input: Int32Array | Float32Array, targets: Int32Array | null, B: number, T: number, lossScale: number): Promise<StageMicro>;
  /** The dense tensors of this stage's parameters by name, built from `get(param)` (collective over a tensor-parallel group). */
  assemble(get: (p: StageParam) => Float32Array): Promise<Map<string, Float32Array>>;
}

/** Options for {@link denseStage}. */
export interface DenseStageOptions {
  /** The block range [first, end). Required. */
  blocks: [number, number];
  /** Whether the stage starts with the embeddings. Required. */
  embed: boolean;
  /** Whether the stage ends with the final norm, head and loss. Required. */
  head: boolean;
}

/** Blocks [first, end) of `model` on one rank, with the embeddings and/or the head and loss: one autograd graph per micro-batch. */
export function denseStage(model: DecoderLM, options: DenseStageOptions): ModelStage {
  const [first, end] = options.blocks;
  const tied = model.head === null;
  const C = model.spec.dModel;
  const V = model.spec.vocabSize;
  const used = new Set<Tensor>();
  for (let i = first; i < end; i++) for (const t of model.blocks.items[i].parameters()) used.add(t);
  if (options.embed) for (const t of [model.embed, ...(model.pos ? [model.pos] : [])].flatMap((mod) => mod.parameters())) used.add(t);
  if (options.head) for (const t of [model.normF, ...(model.head ? [model.head] : []), ...(tied ? [model.embed] : [])].flatMap((mod) => mod.parameters())) used.add(t);
  const params = model.namedParameters().filter(([, t]) => used.has(t)).map(([name, t]): StageParam => ({ name, tensor: t, sharded: false, trainable: true }));
  return {
    params,
    async forward(input, targets, B, T, lossScale) {
      let x: Tensor;
      let xin: Tensor | null = null;
      if (options.embed) {
        x = model.embed.forward(tensor(input as Int32Array, [B, T], { dtype: 'i32' }));
        if (model.pos) x = add(x, slice(model.pos.weight, 0, 0, T));
      } else x = xin = tensor(input as Float32Array, [B, T, C]).requiresGrad_(true);
      for (let i = first; i < end; i++) x = model.blocks.items[i].forward(x, { positionOffset: 0 });
      let loss = NaN;
      if (options.head) {
        const h = model.normF.forward(x);
        const logits = model.head ? reshape(model.head.forward(h), [B * T, V]) : matmul(reshape(h, [B * T, C]), model.embed.weight, { transB: true });
        const ce = crossEntropy(logits, tensor(targets!, [B * T], { dtype: 'i32' }), { ignoreIndex: -100 });
        loss = ce.item();
        x = mul(ce, lossScale);
      }
      const out = x;
      return {
        output: options.head ? null : (out.data() as Float32Array),
        loss,
        async backward(gradOut) {
          scope(() => (gradOut ? out.backward(tensor(gradOut, [B, T, C])) : out.backward()));
          if (!xin) return null;
          const g = Float32Array.from(xin.grad!.data() as Float32Array);
          xin.zeroGrad();
          return g;
        },
      };
    },
    async assemble(get) {
      return new Map(params.map((p) => [p.name, Float32Array.from(get(p))]));
    },
  };
}
