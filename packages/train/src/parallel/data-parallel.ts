// Data parallelism (DDP): one full replica per rank, gradients averaged by bucketed ring all-reduce, the same AdamW step everywhere.
import type { ObjectiveBatch } from '../objectives/objective.js';
import { AdamW, type AdamWOptions } from '../optim/adamw.js';
import { clipGradNorm, globalGradNorm } from '../optim/clip-grad-norm.js';
import type { TrainableModel, TrainableParam } from '../trainable-model.js';
import type { Communicator } from './communicator.js';
import { memoryReport, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

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
 * one worker accumulating them (bit-identical for N = 2).
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
  const optimizer = new AdamW(params.map((p) => ({ name: p.name, shape: p.shape, data: p.data, grad: p.grad })), options.optimizer);
  const buckets = gradientBuckets(params, options.firstBucketBytes ?? 1 << 20, options.bucketBytes ?? 25 << 20);
  const clip = options.gradClip ?? 1.0;
  const bytes = (a: { byteLength: number }[]): number => a.reduce((s, x) => s + x.byteLength, 0);
  return {
    name: 'ddp',
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += model.lossAndBackward(b, { lossScale: 1 / batches.length });
      await allReduceGradients(comm, params, buckets);
      const grads = params.map((p) => p.grad);
      const gradNorm = clip > 0 ? clipGradNorm(grads, clip) : globalGradNorm(grads);
      optimizer.step(lr);
      model.syncParameters?.();
      return { loss: loss / batches.length, gradNorm };
    },
    memory(): MemoryReport {
      const st = optimizer.stateDict();
      // NOTE: transient = every bucket's packed copy, since all buckets are in flight together.
      return memoryReport(bytes(params.map((p) => p.data)), bytes(params.map((p) => p.grad)), bytes([...Object.values(st.m), ...Object.values(st.v)]), bytes(params.map((p) => p.grad)));
    },
    async fullParameters() {
      return new Map(params.map((p) => [p.name, p.data.slice()]));
    },
  };
}
