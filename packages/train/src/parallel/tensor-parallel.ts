// Megatron tensor parallelism for an @lmkit/model decoder: attention split by heads and the MLP column- then row-parallel, one all-reduce per sub-block forward and one backward.
import { Attention, MLP, type Block, type DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, noGrad, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import { AdamW, type AdamWOptions } from '../optim/adamw.js';
import { CommError, type Communicator } from './communicator.js';
import { allReduceGradients } from './data-parallel.js';
import { memoryReport, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link tensorParallel}. */
export interface TensorParallelOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** The data-parallel group of this rank (2D parallelism): gradients are averaged over it before the step. Default none. */
  dataParallel?: Communicator;
}

/** A local shard and where its elements sit in the dense tensor: runs of [localOffset, denseOffset, length]. */
interface Shard {
  name: string;
  local: Tensor;
  runs: [number, number, number][];
  /** False for a row-parallel bias on ranks ≠ 0 (kept at zero: the bias is added once). */
  trainable: boolean;
}

/** Runs for rows [r0, r1) of a (rows, cols) matrix. */
const rowRuns = (r0: number, r1: number, cols: number, at = 0): [number, number, number][] => [[at * cols, r0 * cols, (r1 - r0) * cols]];
/** Runs for columns [c0, c1) of each of `rows` rows of a (rows, cols) matrix. */
const colRuns = (rows: number, cols: number, c0: number, c1: number): [number, number, number][] =>
  Array.from({ length: rows }, (_, i): [number, number, number] => [i * (c1 - c0), i * cols + c0, c1 - c0]);

/** One Megatron sub-block on this rank: the replicated norm, then the local (head- or column-split) module. */
interface SubBlock {
  norm: Block['norm1'];
  local: Attention | MLP;
}

/**
 * Tensor parallel (Megatron-LM) over t ranks. Each block's attention keeps H/t heads: its
 * fused QKV projection is column-split by heads and its output projection row-split; the MLP's
 * first projection is column-split (GELU/SwiGLU stay local) and its second row-split. A
 * sub-block computes y = x + g(local(f(norm(x)))): g all-reduces the partial outputs in the
 * forward (identity backward), f all-reduces the input gradient in the backward (identity
 * forward) — so 2 all-reduces of B·T·C per block forward and 2 backward. Embeddings, norms and
 * the head are replicated (no vocab-parallel embedding here). Row-parallel biases live on rank 0.
 *
 * @example
 * const tp = await tensorParallel(comm, model); // every rank passes the same batch
 * await tp.step([batch], lr);
 */
export async function tensorParallel(comm: Communicator, model: DecoderLM, options: TensorParallelOptions = {}): Promise<ParallelStrategy & { lossAndBackward(batch: ObjectiveBatch, lossScale: number): Promise<number>; denseGradients(): Promise<Map<string, Float32Array>> }> {
  assertCheckpointable(model);
  const t = comm.worldSize;
  const r = comm.rank;
  const spec = model.spec;
  const H = spec.nHead;
  const Hkv = spec.nKvHead;
  const D = spec.headDim;
  const C = spec.dModel;
  const F = spec.dFf;
  const why = H % t !== 0 || Hkv % t !== 0 ? `${H} heads / ${Hkv} kv heads do not split over ${t} ranks` : F % t !== 0 ? `d_ff ${F} does not split over ${t} ranks` : spec.positions === 'alibi' ? 'ALiBi slopes depend on the global head index' : spec.parallelBlock ? 'parallel blocks are not supported' : null;
  if (why) throw new CommError('TRAIN_COMM_BAD_ARGS', `tensor parallel: ${why}`, { hint: 'pick tp dividing the head count and d_ff, or use data/pipeline parallelism' });
  const named = model.namedParameters();
  for (const [, p] of named) {
    const host = Float32Array.from(p.data() as Float32Array);
    await comm.broadcast(host, 0);
    p.write(host);
  }
  const hl = H / t;
  const kl = Hkv / t;
  const fl = F / t;
  const shards: Shard[] = [];
  const subBlocks: SubBlock[][] = model.blocks.items.map((block, i) => {
    const pre = `blocks.${i}`;
    const attn = new Attention({ dModel: C, nHead: hl, nKvHead: kl, headDim: D, bias: spec.attnBias, causal: spec.causal, positions: spec.positions, ropeTheta: spec.ropeTheta });
    const mlp = new MLP({ dModel: C, dFf: fl, kind: spec.mlp, bias: spec.mlpBias });
    // QKV rows: [q heads | k heads | v heads]; this rank's heads from each section.
    const qkvRows: [number, number, number][] = [[0, r * hl * D, hl * D], [hl * D, H * D + r * kl * D, kl * D], [(hl + kl) * D, (H + Hkv) * D + r * kl * D, kl * D]];
    const fcRows: [number, number, number][] = spec.mlp === 'swiglu' ? [[0, r * fl, fl], [fl, F + r * fl, fl]] : [[0, r * fl, fl]];
    const scaleRuns = (runs: [number, number, number][], cols: number): [number, number, number][] => runs.map(([a, b, n]) => [a * cols, b * cols, n * cols]);
    shards.push(
      { name: `${pre}.attn.qkv.weight`, local: attn.qkv.weight, runs: scaleRuns(qkvRows, C), trainable: true },
      { name: `${pre}.attn.proj.weight`, local: attn.proj.weight, runs: colRuns(C, H * D, r * hl * D, (r + 1) * hl * D), trainable: true },
      { name: `${pre}.mlp.fc.weight`, local: mlp.fc.weight, runs: scaleRuns(fcRows, C), trainable: true },
      { name: `${pre}.mlp.proj.weight`, local: mlp.proj.weight, runs: colRuns(C, F, r * fl, (r + 1) * fl), trainable: true },
    );
    if (spec.attnBias) shards.push({ name: `${pre}.attn.qkv.bias`, local: attn.qkv.bias!, runs: qkvRows, trainable: true }, { name: `${pre}.attn.proj.bias`, local: attn.proj.bias!, runs: r === 0 ? rowRuns(0, C, 1) : [], trainable: r === 0 });
    if (spec.mlpBias) shards.push({ name: `${pre}.mlp.fc.bias`, local: mlp.fc.bias!, runs: fcRows, trainable: true }, { name: `${pre}.mlp.proj.bias`, local: mlp.proj.bias!, runs: r === 0 ? rowRuns(0, C, 1) : [], trainable: r === 0 });
    return [{ norm: block.norm1, local: attn }, { norm: block.norm2!, local: mlp }];
  });
  const dense = new Map(named);
  for (const s of shards) {
    const src = dense.get(s.name)!.data() as Float32Array;
    const dst = new Float32Array(s.local.size);
    for (const [a, b, n] of s.runs) dst.set(src.subarray(b, b + n), a);
    s.local.write(dst);
  }
  // Replicated parameters: everything outside the split attention/MLP modules.
  const shardedNames = new Set(shards.map((s) => s.name));
  const replicated = named.filter(([n]) => !shardedNames.has(n));
  const trainables: [string, Tensor][] = [...replicated, ...shards.filter((s) => s.trainable).map((s): [string, Tensor] => [s.name, s.local])];
  const host = trainables.map(([name, p]) => ({ name, shape: p.shape, data: Float32Array.from(p.data() as Float32Array), grad: new Float32Array(p.size) }));
  const optimizer = new AdamW(host, options.optimizer);
  const clip = options.gradClip ?? 1.0;
  const nReplicated = replicated.length;

  /** Forward + backward of `batch`, accumulating grads in the tensors; returns the loss. */
  const lossAndBackward = async (batch: ObjectiveBatch, lossScale: number): Promise<number> => {
    const { batchSize: B, seqLen: T } = batch;
    const ids = tensor(batch.inputIds, [B, T], { dtype: 'i32' });
    const targets = tensor(batch.targets, [B * T], { dtype: 'i32' });
    const embed = (): Tensor => {
      const x = model.embed.forward(ids);
      return model.pos ? add(x, slice(model.pos.weight, 0, 0, T)) : x;
    };
    const saved: { x: Tensor; h: Tensor; hd: Tensor; yp: Tensor }[] = [];
    let x = noGrad(() => embed());
    for (const sbs of subBlocks) {
      for (const sb of sbs) {
        const xl = x.detach().requiresGrad_(true);
        const h = sb.norm.forward(xl);
        const hd = h.detach().requiresGrad_(true); // f: identity forward
        const yp = sb.local instanceof Attention ? sb.local.forward(hd, { positionOffset: 0 }) : sb.local.forward(hd);
        const y = Float32Array.from(yp.data() as Float32Array);
        await comm.allReduce(y, 'sum'); // g: the sub-block's one forward all-reduce
        x = noGrad(() => add(xl, tensor(y, [B, T, C])));
        saved.push({ x: xl, h, hd, yp });
      }
    }
    const last = x.detach().requiresGrad_(true);
    let value = NaN;
    scope(() => {
      const h = model.normF.forward(last);
      const logits = model.head ? reshape(model.head.forward(h), [B * T, spec.vocabSize]) : matmul(reshape(h, [B * T, C]), model.embed.weight, { transB: true });
      const loss = crossEntropy(logits, targets, { ignoreIndex: -100 });
      value = loss.item();
      mul(loss, lossScale).backward();
    });
    let grad = Float32Array.from(last.grad!.data() as Float32Array);
    for (let k = saved.length - 1; k >= 0; k--) {
      const { x: xl, h, hd, yp } = saved[k];
      scope(() => yp.backward(tensor(grad, [B, T, C]))); // g: identity backward
      const gh = Float32Array.from(hd.grad!.data() as Float32Array);
      await comm.allReduce(gh, 'sum'); // f: the sub-block's one backward all-reduce
      scope(() => h.backward(tensor(gh, [B, T, C])));
      const gx = xl.grad!.data() as Float32Array;
      for (let i = 0; i < grad.length; i++) grad[i] += gx[i];
      for (const z of [xl, hd]) z.zeroGrad();
    }
    scope(() => embed().backward(tensor(grad, [B, T, C])));
    last.zeroGrad();
    return value;
  };

  const allTensors = (): Tensor[] => trainables.map(([, p]) => p).concat(shards.filter((s) => !s.trainable).map((s) => s.local));
  return {
    name: 'tp',
    lossAndBackward,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.train();
      for (const p of allTensors()) p.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += await lossAndBackward(b, 1 / batches.length);
      trainables.forEach(([, p], i) => host[i].grad.set(p.grad ? (p.grad.data() as Float32Array) : new Float32Array(p.size)));
      // 2D: average the gradients over the data-parallel replicas of this rank (one flat all-reduce).
      if (options.dataParallel && options.dataParallel.worldSize > 1) await allReduceGradients(options.dataParallel, host, [host.map((_, i) => i)]);
      // Norm: sharded parts summed across ranks, replicated parts counted once.
      const ss = new Float64Array(2);
      host.forEach((h, i) => {
        for (const v of h.grad) ss[i < nReplicated ? 0 : 1] += v * v;
      });
      const part = new Float64Array([ss[1]]);
      await comm.allReduce(part, 'sum');
      const gradNorm = Math.sqrt(ss[0] + part[0]);
      if (clip > 0 && Number.isFinite(gradNorm)) {
        const coef = clip / (gradNorm + 1e-6);
        if (coef < 1) for (const h of host) for (let i = 0; i < h.grad.length; i++) h.grad[i] *= coef;
      }
      optimizer.step(lr);
      trainables.forEach(([, p], i) => p.write(host[i].data));
      return { loss: loss / batches.length, gradNorm };
    },
    memory(): MemoryReport {
      const st = optimizer.stateDict();
      const bytes = host.reduce((a, h) => a + h.data.byteLength, 0);
      return memoryReport(bytes, bytes, [...Object.values(st.m), ...Object.values(st.v)].reduce((a, x) => a + x.byteLength, 0));
    },
    async fullParameters() {
      return assemble((p) => p.data() as Float32Array);
    },
    async denseGradients() {
      return assemble((p) => (p.grad ? (p.grad.data() as Float32Array) : new Float32Array(p.size)));
    },
  };

  /** Dense tensors by name: replicated ones as they are, split ones summed from every rank's slice (zeros elsewhere). */
  async function assemble(get: (p: Tensor) => Float32Array): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>(replicated.map(([n, p]) => [n, Float32Array.from(get(p))]));
    for (const s of shards) {
      const full = new Float32Array(dense.get(s.name)!.size);
      const local = get(s.local);
      for (const [a, b, n] of s.runs) full.set(local.subarray(a, a + n), b);
      await comm.allReduce(full, 'sum');
      out.set(s.name, full);
    }
    return out;
  }
}
