// ZeRO stages 1 and 2 over a TrainableModel: AdamW state (1) and reduced gradients (2) partitioned across data-parallel ranks.
import type { ObjectiveBatch } from '../objectives/objective.js';
import { AdamW, type AdamWOptions, type OptimParam } from '../optim/adamw.js';
import type { TrainableModel } from '../trainable-model.js';
import { CommError, type Communicator } from './communicator.js';
import { FlatLayout } from './internal/flat-shards.js';
import { memoryReport, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link zero}. */
export interface ZeroOptions {
  /** 1: optimizer state sharded; 2: + gradients sharded. (Stage 3 is {@link fullyShardedDecoder}.) Required. */
  stage: 1 | 2;
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
}

/** Sum of squares of `a` in float64. */
function sumSq(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/**
 * ZeRO stage 1 or 2 (DeepSpeed's partitioning; FSDP's SHARD_GRAD_OP is stage 2). Parameters
 * are laid end to end in one flat buffer padded to a multiple of N and cut into N equal shards.
 * Each step: gradients are reduce-scattered (mean) so rank r gets the reduced gradient of shard
 * r, the global norm is all-reduced from shard partial sums, AdamW updates shard r only
 * (holding m and v for Ψ/N elements), and the updated shards are all-gathered into every
 * replica: 2(N−1)/N·Ψ elements sent per rank, like DDP. Stage 1 keeps a full flat gradient
 * buffer (the reduce-scatter writes its own region); stage 2 keeps only the Ψ/N shard.
 *
 * @example
 * const z = await zero(comm, fromLmkitModel(model), { stage: 2, optimizer: { lr: 1e-3 } });
 * await z.step([batch], lr);
 */
export async function zero(comm: Communicator, model: TrainableModel, options: ZeroOptions): Promise<ParallelStrategy> {
  const stage = options.stage;
  if (stage !== 1 && stage !== 2) throw new CommError('TRAIN_COMM_BAD_ARGS', `zero: stage must be 1 or 2 here, got ${String(stage)}`, { hint: 'stage 3 shards the parameters too: use fullyShardedDecoder(comm, decoderLM, ...)' });
  const N = comm.worldSize;
  const r = comm.rank;
  const params = model.parameters();
  for (const p of params) await comm.broadcast(p.data, 0);
  model.syncParameters?.();
  const layout = new FlatLayout(params.map((p) => p.data.length), N);
  const S = layout.shardSize;
  // Stage 1: full flat gradient buffer, own shard = its region r. Stage 2: just the shard.
  const flatGrad = stage === 1 ? new Float32Array(layout.padded) : null;
  const gradShard = flatGrad ? flatGrad.subarray(r * S, (r + 1) * S) : new Float32Array(S);
  const pieces = layout.pieces(r);
  const optParams: OptimParam[] = pieces.map((pc) => {
    const p = params[pc.index];
    return { name: p.name, shape: p.shape, data: p.data.subarray(pc.from, pc.to), grad: gradShard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from) };
  });
  const optimizer = new AdamW(optParams, options.optimizer);
  const clip = options.gradClip ?? 1.0;
  const bytes = (a: { byteLength: number }[]): number => a.reduce((s, x) => s + x.byteLength, 0);

  return {
    name: `zero${stage}`,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += model.lossAndBackward(b, { lossScale: 1 / batches.length });
      // Reduce-scatter the gradients: rank r receives the mean gradient of shard r.
      const packed = flatGrad ?? new Float32Array(layout.padded);
      packed.fill(0);
      layout.pack(params.map((p) => p.grad), packed);
      await comm.reduceScatter(packed, gradShard, 'mean');
      // Global norm from shard partial sums (padding is zero).
      const ss = new Float64Array([sumSq(gradShard)]);
      await comm.allReduce(ss, 'sum');
      const gradNorm = Math.sqrt(ss[0]);
      if (clip > 0 && Number.isFinite(gradNorm)) {
        const coef = clip / (gradNorm + 1e-6);
        if (coef < 1) for (let i = 0; i < gradShard.length; i++) gradShard[i] *= coef;
      }
      optimizer.step(lr);
      // All-gather the updated shards into every replica.
      const mine = new Float32Array(S);
      for (const pc of pieces) mine.set(params[pc.index].data.subarray(pc.from, pc.to), pc.shardOffset);
      const full = new Float32Array(layout.padded);
      await comm.allGather(mine, full);
      layout.unpack(full, params.map((p) => p.data));
      model.syncParameters?.();
      return { loss: loss / batches.length, gradNorm };
    },
    memory(): MemoryReport {
      const st = optimizer.stateDict();
      const grads = flatGrad ? flatGrad.byteLength : gradShard.byteLength;
      // NOTE: transient = the packed gradient (stage 2) and the all-gather buffers of one step.
      const transient = (stage === 2 ? layout.padded * 4 : 0) + layout.padded * 4 + S * 4;
      return memoryReport(bytes(params.map((p) => p.data)), grads, bytes([...Object.values(st.m), ...Object.values(st.v)]), transient, bytes(params.map((p) => p.grad)));
    },
    async fullParameters() {
      return new Map(params.map((p) => [p.name, p.data.slice()]));
    },
  };
}
