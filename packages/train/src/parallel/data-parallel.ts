// Data parallelism (DDP): one full replica per rank, gradients averaged by bucketed ring all-reduce, the same AdamW step everywhere.
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import type { TrainableModel, TrainableParam } from '../trainable-model.js';
import type { Communicator } from './communicator.js';
import { halfFormatOf, OptimizerStep, optimizerStepOptions } from './internal/optimizer-step.js';
import { loadReplicatedState, replicatedState } from './internal/shard-state.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link dataParallel}. */
export interface DataParallelOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** Gradient bytes per all-reduce bucket. Default 25 MiB (torch DDP's bucket_cap_mb). */
  bucketBytes?: number;
  /** Bytes of the first bucket (small, so communication starts early). Default 1 MiB (torch's). */
  firstBucketBytes?: number;
  /** Broadcast rank 0's weights at construction, as DDP does. Default true. */
  broadcastInit?: boolean;
  /** 'fp32', or 'bf16'/'fp16' compute weights and gradients with fp32 master weights (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
}

/** Groups parameter indices into buckets of at most `cap` bytes, in reverse parameter order (the order backward produces them). */
export function gradientBuckets(params: readonly { grad: Float32Array }[], firstCap: number, cap: number): number[][] {
  const buckets: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (let i = params.length - 1; i >= 0; i--) {
    cur.push(i);
    bytes += params[i].grad.byteLength;
    if (bytes >= (buckets.length === 0 ? firstCap : cap)) {
      buckets.push(cur);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length > 0) buckets.push(cur);
  return buckets;
}

/**
 * All-reduces (mean) every gradient of `params`, bucket by bucket: each bucket's gradients
 * are packed into one buffer and its all-reduce is issued at once, all buckets in flight
 * together. NOTE: `TrainableModel.lossAndBackward` hands gradients over when backward ends
 * (@lmkit/tensor's autograd has no per-parameter hook), so here the buckets start right after
 * backward; {@link dataParallelDecoder} runs a decoder's backward block by block and launches
 * each bucket during backward as soon as its gradients are final.
 */
export async function allReduceGradients(comm: Communicator, params: readonly TrainableParam[], buckets: readonly number[][]): Promise<void> {
  await Promise.all(buckets.map(async (bucket) => {
    const flat = new Float32Array(bucket.reduce((s, i) => s + params[i].grad.length, 0));
    let at = 0;
    for (const i of bucket) {
      flat.set(params[i].grad, at);
      at += params[i].grad.length;
    }
    await comm.allReduce(flat, 'mean');
    at = 0;
    for (const i of bucket) {
      params[i].grad.set(flat.subarray(at, at + params[i].grad.length));
      at += params[i].grad.length;
    }
  }));
}

/**
 * Distributed data parallel: every rank holds the whole model, runs its own micro-batches,
 * averages gradients with a bucketed all-reduce (2(N−1)/N·Ψ elements sent per rank), clips and
 * applies the same AdamW update, so replicas stay identical. N ranks on N micro-batches equal
 * one worker accumulating them (bit-identical for N = 2). With bf16/fp16 the model computes with
 * rounded copies of fp32 master weights; the update is the shared {@link OptimizerStep}.
 *
 * @example
 * const ddp = await dataParallel(comm, fromLmkitModel(model), { optimizer: { lr: 1e-3 } });
 * await ddp.step([batchForThisRank], lr);
 */
export async function dataParallel(comm: Communicator, model: TrainableModel, options: DataParallelOptions = {}): Promise<ParallelStrategy> {
  const params = model.parameters();
  if (options.broadcastInit ?? true) {
    for (const p of params) await comm.broadcast(p.data, 0);
    model.syncParameters?.();
  }
  const master = halfFormatOf(options.precision ?? 'fp32') ? params.map((p) => p.data.slice()) : params.map((p) => p.data);
  const opt = new OptimizerStep(comm, params.map((p, i) => ({ name: p.name, shape: p.shape, data: master[i], grad: p.grad })), optimizerStepOptions(options, false));
  const syncModel = (): void => {
    params.forEach((p, i) => opt.toCompute(master[i], p.data));
    model.syncParameters?.();
  };
  if (opt.format) syncModel();
  const buckets = gradientBuckets(params, options.firstBucketBytes ?? 1 << 20, options.bucketBytes ?? 25 << 20);
  const bytes = (a: { byteLength: number }[]): number => a.reduce((s, x) => s + x.byteLength, 0);
  const names = params.map((p) => p.name);
  return {
    name: 'ddp',
    precision: options.precision ?? 'fp32',
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += model.lossAndBackward(b, { lossScale: opt.lossScale / batches.length });
      await allReduceGradients(comm, params, buckets);
      const { gradNorm, skipped } = await opt.step(lr);
      if (!skipped) syncModel();
      return { loss: loss / batches.length, gradNorm, skipped, ...(opt.scaler ? { lossScale: opt.scaler.scale } : {}) };
    },
    memory(): MemoryReport {
      const st = opt.optimizer.stateDict();
      // NOTE: transient = every bucket's packed copy, since all buckets are in flight together; half precision adds the fp32 masters.
      return memoryReport(bytes(params.map((p) => p.data)) + (opt.format ? bytes(master) : 0), bytes(params.map((p) => p.grad)), bytes([...Object.values(st.m), ...Object.values(st.v)]), bytes(params.map((p) => p.grad)));
    },
    async exportState() {
      return replicatedState(names, master, opt);
    },
    async importState(state: FullTrainingState) {
      loadReplicatedState(names, master, opt, state);
      syncModel();
    },
    async fullParameters() {
      return new Map(params.map((p, i) => [p.name, master[i].slice()]));
    },
  };
}
