// One stage of a decoder split Megatron-style over a tensor-parallel group: head-split attention, column/row MLP, vocab-parallel embedding and loss.
import { Attention, MLP, type Block, type DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, noGrad, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import { CommError, type Communicator } from './communicator.js';
import type { ModelStage, StageMicro, StageParam } from './model-stage.js';
import { vocabParallelCrossEntropy, vocabParallelLookup, vocabRange } from './vocab-parallel.js';

/** Options for {@link megatronStage}. */
export interface MegatronStageOptions {
  /** The block range [first, end) this stage runs. Default all blocks. */
  blocks?: [number, number];
  /** Whether this stage starts with the token (and position) embedding. Default true. */
  embed?: boolean;
  /** Whether this stage ends with the final norm, the LM head and the loss. Default true. */
  head?: boolean;
  /** Split the token embedding and the LM head by vocabulary rows (and compute the loss without gathering logits). Default true. */
  vocabParallel?: boolean;
}

/** Runs of [localOffset, denseOffset, length] for rows [r0, r1) of a (rows, cols) matrix. */
const rowRuns = (r0: number, r1: number, cols: number): [number, number, number][] => [[0, r0 * cols, (r1 - r0) * cols]];
/** Runs for columns [c0, c1) of each of `rows` rows of a (rows, cols) matrix. */
const colRuns = (rows: number, cols: number, c0: number, c1: number): [number, number, number][] =>
  Array.from({ length: rows }, (_, i): [number, number, number] => [i * (c1 - c0), i * cols + c0, c1 - c0]);

/** One Megatron sub-block on this rank: the replicated norm, then the local (head- or column-split) module. */
interface SubBlock {
  norm: Block['norm1'];
  local: Attention | MLP;
}

/**
 * A Megatron-LM stage over the t ranks of `tp` (Shoeybi et al. 2019). Each block's attention
 * keeps H/t heads (fused QKV column-split by heads, output projection row-split), the MLP's
 * first projection is column-split and its second row-split. A sub-block computes
 * y = x + g(local(f(norm(x)))): g all-reduces the partial outputs forward, f the input gradient
 * backward — one all-reduce of B·T·C each way per sub-block. With `vocabParallel`, rank r holds
 * vocabulary rows [v0, v1) of the token table (and of an untied head): the lookup masks the ids
 * outside the shard and all-reduces (VocabParallelEmbedding); the logits stay split by columns
 * and the loss is {@link vocabParallelCrossEntropy}; the head's input gradient is all-reduced.
 * Norms and learned positions are replicated; row-parallel biases live on rank 0.
 * The model's weights must already be identical on every rank (the callers broadcast them).
 */
export function megatronStage(tp: Communicator, model: DecoderLM, options: MegatronStageOptions = {}): ModelStage {
  const t = tp.worldSize;
  const r = tp.rank;
  const spec = model.spec;
  const [H, Hkv, D, C, F, V] = [spec.nHead, spec.nKvHead, spec.headDim, spec.dModel, spec.dFf, spec.vocabSize];
  const why = H % t !== 0 || Hkv % t !== 0 ? `${H} heads / ${Hkv} kv heads do not split over ${t} ranks` : F % t !== 0 ? `d_ff ${F} does not split over ${t} ranks` : spec.positions === 'alibi' ? 'ALiBi slopes depend on the global head index' : spec.parallelBlock ? 'parallel blocks are not supported' : V < t ? `a vocabulary of ${V} does not split over ${t} ranks` : null;
  if (why) throw new CommError('TRAIN_COMM_BAD_ARGS', `tensor parallel: ${why}`, { hint: 'pick tp dividing the head count and d_ff, or use data/pipeline parallelism' });
  const [first, end] = options.blocks ?? [0, model.blocks.items.length];
  const hasEmbed = options.embed ?? true;
  const hasHead = options.head ?? true;
  const vocabParallel = (options.vocabParallel ?? true) && t > 1;
  const tied = model.head === null;
  const [v0, v1] = vocabParallel ? vocabRange(V, t, r) : [0, V];
  const hl = H / t;
  const kl = Hkv / t;
  const fl = F / t;
  const dense = new Map(model.namedParameters());
  const params: StageParam[] = [];
  const shard = (name: string, local: Tensor, runs: [number, number, number][], trainable = true): void => {
    params.push({ name, tensor: local, sharded: true, trainable, runs });
  };
  const subBlocks: SubBlock[][] = model.blocks.items.slice(first, end).map((block, j) => {
    const pre = `blocks.${first + j}`;
    const attn = new Attention({ dModel: C, nHead: hl, nKvHead: kl, headDim: D, bias: spec.attnBias, causal: spec.causal, positions: spec.positions, ropeTheta: spec.ropeTheta });
    const mlp = new MLP({ dModel: C, dFf: fl, kind: spec.mlp, bias: spec.mlpBias });
    // QKV rows: [q heads | k heads | v heads]; this rank's heads from each section.
    const qkvRows: [number, number, number][] = [[0, r * hl * D, hl * D], [hl * D, H * D + r * kl * D, kl * D], [(hl + kl) * D, (H + Hkv) * D + r * kl * D, kl * D]];
    const fcRows: [number, number, number][] = spec.mlp === 'swiglu' ? [[0, r * fl, fl], [fl, F + r * fl, fl]] : [[0, r * fl, fl]];
    const scaleRuns = (runs: [number, number, number][], cols: number): [number, number, number][] => runs.map(([a, b, n]) => [a * cols, b * cols, n * cols]);
    shard(`${pre}.attn.qkv.weight`, attn.qkv.weight, scaleRuns(qkvRows, C));
    shard(`${pre}.attn.proj.weight`, attn.proj.weight, colRuns(C, H * D, r * hl * D, (r + 1) * hl * D));
    shard(`${pre}.mlp.fc.weight`, mlp.fc.weight, scaleRuns(fcRows, C));
    shard(`${pre}.mlp.proj.weight`, mlp.proj.weight, colRuns(C, F, r * fl, (r + 1) * fl));
    if (spec.attnBias) {
      shard(`${pre}.attn.qkv.bias`, attn.qkv.bias!, qkvRows);
      shard(`${pre}.attn.proj.bias`, attn.proj.bias!, r === 0 ? rowRuns(0, C, 1) : [], r === 0);
    }
    if (spec.mlpBias) {
      shard(`${pre}.mlp.fc.bias`, mlp.fc.bias!, fcRows);
      shard(`${pre}.mlp.proj.bias`, mlp.proj.bias!, r === 0 ? rowRuns(0, C, 1) : [], r === 0);
    }
    return [{ norm: block.norm1, local: attn }, { norm: block.norm2!, local: mlp }];
  });
  // Vocab-split token table (also the tied head) and untied head: rows [v0, v1).
  const vocabShard = (name: string): Tensor => {
    const local = tensor(new Float32Array((v1 - v0) * C), [v1 - v0, C]).requiresGrad_(true);
    shard(name, local, rowRuns(v0, v1, C));
    return local;
  };
  const embedLocal = vocabParallel && (hasEmbed || (hasHead && tied)) ? vocabShard('embed.weight') : null;
  const headLocal = vocabParallel && hasHead && !tied ? vocabShard('head.weight') : null;
  for (const p of params) {
    const src = dense.get(p.name)!.data() as Float32Array;
    const dst = new Float32Array(p.tensor.size);
    for (const [a, b, n] of p.runs!) dst.set(src.subarray(b, b + n), a);
    p.tensor.write(dst);
  }
  // Replicated: the rest of what this stage uses (block norms, positions, final norm; embed/head when not vocab-split).
  const used = new Set<Tensor>();
  for (const block of model.blocks.items.slice(first, end)) for (const x of block.parameters()) used.add(x);
  if (hasEmbed) for (const x of [model.embed, ...(model.pos ? [model.pos] : [])].flatMap((mod) => mod.parameters())) used.add(x);
  if (hasHead) for (const x of [model.normF, ...(model.head ? [model.head] : []), ...(tied ? [model.embed] : [])].flatMap((mod) => mod.parameters())) used.add(x);
  const splitNames = new Set(params.map((p) => p.name));
  const replicated = [...dense].filter(([n, x]) => used.has(x) && !splitNames.has(n)).map(([name, x]): StageParam => ({ name, tensor: x, sharded: false, trainable: true }));
  params.unshift(...replicated);

  /** Token (+ position) embedding of ids (B, T) as an autograd graph (with vocab parallelism: this rank's part only). */
  const embedGraph = (ids: Int32Array, B: number, T: number): Tensor => {
    const x = embedLocal ? vocabParallelLookup(embedLocal, ids, [B, T], v0) : model.embed.forward(tensor(ids, [B, T], { dtype: 'i32' }));
    return model.pos ? add(x, slice(model.pos.weight, 0, 0, T)) : x;
  };

  return {
    params,
    async forward(input: Int32Array | Float32Array, targets: Int32Array | null, B: number, T: number, lossScale: number): Promise<StageMicro> {
      let x: Tensor;
      if (hasEmbed) {
        const ids = input as Int32Array;
        if (embedLocal) {
          const part = noGrad(() => Float32Array.from(vocabParallelLookup(embedLocal, ids, [B, T], v0).data() as Float32Array));
          await tp.allReduce(part, 'sum'); // the embedding's one forward all-reduce
          x = model.pos ? noGrad(() => add(tensor(part, [B, T, C]), slice(model.pos!.weight, 0, 0, T))) : tensor(part, [B, T, C]);
        } else x = noGrad(() => embedGraph(ids, B, T));
      } else x = tensor(input as Float32Array, [B, T, C]);
      const saved: { x: Tensor; h: Tensor; hd: Tensor; yp: Tensor }[] = [];
      for (const sbs of subBlocks) {
        for (const sb of sbs) {
          const xl = x.detach().requiresGrad_(true);
          const h = sb.norm.forward(xl);
          const hd = h.detach().requiresGrad_(true); // f: identity forward
          const yp = sb.local instanceof Attention ? sb.local.forward(hd, { positionOffset: 0 }) : sb.local.forward(hd);
          const y = Float32Array.from(yp.data() as Float32Array);
          await tp.allReduce(y, 'sum'); // g: the sub-block's one forward all-reduce
          x = noGrad(() => add(xl, tensor(y, [B, T, C])));
          saved.push({ x: xl, h, hd, yp });
        }
      }
      let loss = NaN;
      let headBackward: (() => Promise<Float32Array>) | null = null;
      if (hasHead) {
        const last = x.detach().requiresGrad_(true);
        const h = model.normF.forward(last);
        const tg = targets!;
        if (vocabParallel) {
          const hd = h.detach().requiresGrad_(true);
          const logits = matmul(reshape(hd, [B * T, C]), (headLocal ?? embedLocal)!, { transB: true }); // (B·T, V/t), never gathered
          const ce = await vocabParallelCrossEntropy(tp, logits.data() as Float32Array, tg, v0, { vocabSize: V, scale: lossScale });
          loss = ce.loss;
          headBackward = async () => {
            scope(() => logits.backward(tensor(ce.grad, [B * T, v1 - v0])));
            const gh = Float32Array.from(hd.grad!.data() as Float32Array);
            await tp.allReduce(gh, 'sum'); // f before the column-parallel head
            scope(() => h.backward(tensor(gh, [B, T, C])));
            return Float32Array.from(last.grad!.data() as Float32Array);
          };
        } else {
          const logits = model.head ? reshape(model.head.forward(h), [B * T, V]) : matmul(reshape(h, [B * T, C]), model.embed.weight, { transB: true });
          const ce = crossEntropy(logits, tensor(tg, [B * T], { dtype: 'i32' }), { ignoreIndex: -100 });
          loss = ce.item();
          const scaled = mul(ce, lossScale);
          headBackward = async () => {
            scope(() => scaled.backward());
            return Float32Array.from(last.grad!.data() as Float32Array);
          };
        }
      }
      return {
        output: hasHead ? null : Float32Array.from(x.data() as Float32Array),
        loss,
        async backward(gradOut: Float32Array | null): Promise<Float32Array | null> {
          const grad = headBackward ? await headBackward() : Float32Array.from(gradOut!);
          for (let k = saved.length - 1; k >= 0; k--) {
            const { x: xl, h, hd, yp } = saved[k];
            scope(() => yp.backward(tensor(grad, [B, T, C]))); // g: identity backward
            const gh = Float32Array.from(hd.grad!.data() as Float32Array);
            await tp.allReduce(gh, 'sum'); // f: the sub-block's one backward all-reduce
            scope(() => h.backward(tensor(gh, [B, T, C])));
            const gx = xl.grad!.data() as Float32Array;
            for (let i = 0; i < grad.length; i++) grad[i] += gx[i];
          }
          if (!hasEmbed) return grad;
          // The other ranks' lookup parts are constants here: the gradient reaches this shard's rows (and positions) only.
          scope(() => embedGraph(input as Int32Array, B, T).backward(tensor(grad, [B, T, C])));
          return null;
        },
      };
    },
    async assemble(get: (p: StageParam) => Float32Array): Promise<Map<string, Float32Array>> {
      const out = new Map<string, Float32Array>();
      for (const p of params) {
        if (!p.sharded) {
          out.set(p.name, Float32Array.from(get(p)));
          continue;
        }
        const full = new Float32Array(dense.get(p.name)!.size);
        const local = get(p);
        for (const [a, b, n] of p.runs!) full.set(local.subarray(a, a + n), b);
        await tp.allReduce(full, 'sum');
        out.set(p.name, full);
      }
      return out;
    },
  };
}
