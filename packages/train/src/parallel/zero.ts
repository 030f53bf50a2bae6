// ZeRO stages 1 and 2 over a TrainableModel: AdamW state (1) and reduced gradients (2) partitioned across data-parallel ranks.
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions, OptimParam } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import type { TrainableModel } from '../trainable-model.js';
import { CommError, type Communicator } from './communicator.js';
import { FlatLayout } from './internal/flat-shards.js';
import { halfFormatOf, OptimizerStep, optimizerStepOptions } from './internal/optimizer-step.js';
import { exportShardedState, importShardedState, type ShardedGroup } from './internal/shard-state.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link zero}. */
export interface ZeroOptions {
  /** 1: optimizer state sharded; 2: + gradients sharded. (Stage 3 is {@link fullyShardedDecoder}.) Required. */
  stage: 1 | 2;
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** 'fp32', or 'bf16'/'fp16' with fp32 master shards (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
}

/**
 * ZeRO stage 1 or 2 (DeepSpeed's partitioning; FSDP's SHARD_GRAD_OP is stage 2). Parameters
 * are laid end to end in one flat buffer padded to a multiple of N and cut into N equal shards.
 * Each step: gradients are reduce-scattered (mean) so rank r gets the reduced gradient of shard
 * r, the global norm is all-reduced from shard partial sums, AdamW updates shard r only
 * (holding m and v for Ψ/N elements), and the updated shards are all-gathered into every
 * replica: 2(N−1)/N·Ψ elements sent per rank, like DDP. Stage 1 keeps a full flat gradient
 * buffer (the reduce-scatter writes its own region); stage 2 keeps only the Ψ/N shard. With
 * bf16/fp16 each rank keeps fp32 masters of its shard only and the rounded shards are gathered;
 * the update (norm, clip, fp16 overflow agreement, AdamW) is the shared {@link OptimizerStep}.
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
  // NOTE: fp32 updates the replica's own values in place; half precision keeps fp32 masters of the shard only.
  const half = halfFormatOf(options.precision ?? 'fp32') !== null;
  const masters = pieces.map((pc) => (half ? params[pc.index].data.slice(pc.from, pc.to) : params[pc.index].data.subarray(pc.from, pc.to)));
  const optParams: OptimParam[] = pieces.map((pc, k) => {
    const p = params[pc.index];
    return { name: p.name, shape: p.shape, data: masters[k], grad: gradShard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from) };
  });
  const opt = new OptimizerStep(comm, optParams, optimizerStepOptions(options, true));
  const groups: ShardedGroup[] = [{ layout, names: params.map((p) => p.name), masters }];
  const bytes = (a: { byteLength: number }[]): number => a.reduce((s, x) => s + x.byteLength, 0);
  /** All-gathers every rank's (rounded) master shard into the replica's weights. */
  const gatherWeights = async (): Promise<void> => {
    const mine = new Float32Array(S);
    pieces.forEach((pc, k) => opt.toCompute(masters[k], mine.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from)));
    const full = new Float32Array(layout.padded);
    await comm.allGather(mine, full);
    layout.unpack(full, params.map((p) => p.data));
    model.syncParameters?.();
  };
  if (half) {
    for (const p of params) opt.toCompute(p.data, p.data);
    model.syncParameters?.();
  }

  return {
    name: `zero${stage}`,
    precision: options.precision ?? 'fp32',
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += model.lossAndBackward(b, { lossScale: opt.lossScale / batches.length });
      // Reduce-scatter the gradients: rank r receives the mean gradient of shard r.
      const packed = flatGrad ?? new Float32Array(layout.padded);
      packed.fill(0);
      layout.pack(params.map((p) => p.grad), packed);
      await comm.reduceScatter(packed, gradShard, 'mean');
      const { gradNorm, skipped } = await opt.step(lr);
      const result = { loss: loss / batches.length, gradNorm, skipped, ...(opt.scaler ? { lossScale: opt.scaler.scale } : {}) };
      if (skipped) return result;
      await gatherWeights(); // the updated shards into every replica
      return result;
    },
    memory(): MemoryReport {
      const st = opt.optimizer.stateDict();
      const grads = flatGrad ? flatGrad.byteLength : gradShard.byteLength;
      // NOTE: transient = the packed gradient (stage 2) and the all-gather buffers of one step.
      const transient = (stage === 2 ? layout.padded * 4 : 0) + layout.padded * 4 + S * 4;
      return memoryReport(bytes(params.map((p) => p.data)) + (half ? bytes(masters) : 0), grads, bytes([...Object.values(st.m), ...Object.values(st.v)]), transient, bytes(params.map((p) => p.grad)));
    },
    async fullParameters() {
      if (!half) return new Map(params.map((p) => [p.name, p.data.slice()]));
      return (await exportShardedState(comm, groups, opt)).master;
    },
    async exportState() {
      return exportShardedState(comm, groups, opt);
    },
    async importState(state: FullTrainingState) {
      importShardedState(r, groups, opt, state);
      await gatherWeights();
    },
  };
}
