// DDP for @lmkit/model decoders with the gradient all-reduce overlapped with backward: each bucket is launched as soon as the blocks holding its parameters have finished their backward.
import type { DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { Communicator } from './communicator.js';
import { gradientBuckets, type DataParallelOptions } from './data-parallel.js';
import { OptimizerStep, optimizerStepOptions } from './internal/optimizer-step.js';
import { loadReplicatedState, replicatedState } from './internal/shard-state.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** A DDP strategy that also says how much of the gradient traffic started before backward ended. */
export interface OverlappedDataParallel extends ParallelStrategy {
  /** In the last step: buckets launched while backward was still running, and all buckets. */
  lastOverlap(): { launchedDuringBackward: number; buckets: number };
}

/**
 * Distributed data parallel with communication overlapped with backward, as torch DDP does with
 * autograd hooks. Our autograd has no per-parameter hooks, so the backward runs block by block
 * (each block's input is a detached leaf, its graph is kept — no recomputation): when a block's
 * backward ends its parameters' gradients are final, and every bucket (reverse parameter order,
 * `bucketBytes`) whose parameters are all final is all-reduced at once, without waiting; between
 * blocks the rank yields to the event loop so the ring steps progress while later blocks compute.
 * The result equals {@link dataParallel}'s, in every precision (host copies are the fp32 masters).
 *
 * @example
 * const ddp = await dataParallelDecoder(comm, model, { bucketBytes: 1 << 20 });
 * await ddp.step([batch], lr);
 */
export async function dataParallelDecoder(comm: Communicator, model: DecoderLM, options: DataParallelOptions = {}): Promise<OverlappedDataParallel> {
  assertCheckpointable(model);
  const named = model.namedParameters();
  if (options.broadcastInit ?? true) {
    for (const [, t] of named) {
      const h = Float32Array.from(t.data() as Float32Array);
      await comm.broadcast(h, 0);
      t.write(h);
    }
  }
  const host = named.map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data() as Float32Array), grad: new Float32Array(t.size) }));
  const index = new Map(named.map(([, t], i) => [t, i]));
  const opt = new OptimizerStep(comm, host, optimizerStepOptions(options, false));
  const compute = new Float32Array(Math.max(...host.map((h) => h.data.length)));
  const syncModel = (): void => named.forEach(([, t], i) => {
    const out = compute.subarray(0, host[i].data.length);
    opt.toCompute(host[i].data, out);
    t.write(out);
  });
  if (opt.format) syncModel();
  const names = host.map((h) => h.name);
  const buckets = gradientBuckets(host, options.firstBucketBytes ?? 1 << 20, options.bucketBytes ?? 25 << 20);
  const blocks = model.blocks.items;
  const blockParams = blocks.map((b) => b.parameters().map((t) => index.get(t)!));
  const headParams = [model.normF, ...(model.head ? [model.head] : [])].flatMap((m) => m.parameters()).map((t) => index.get(t)!);
  let overlap = { launchedDuringBackward: 0, buckets: buckets.length };

  return {
    name: 'ddp-overlap',
    precision: options.precision ?? 'fp32',
    lastOverlap: () => overlap,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.train();
      for (const [, t] of named) t.zeroGrad();
      for (const h of host) h.grad.fill(0);
      const ready = new Array<number>(host.length).fill(0); // micro-batches whose backward reached each parameter
      const launched = new Array<boolean>(buckets.length).fill(false);
      const inflight: Promise<void>[] = [];
      let loss = 0;
      overlap = { launchedDuringBackward: 0, buckets: buckets.length };
      const last = batches.length - 1;
      /** Marks `params` final for this micro-batch; on the last one, launches every bucket that became complete. */
      const finish = (params: number[], mb: number, duringBackward: boolean): void => {
        for (const i of params) ready[i] = mb + 1;
        if (mb !== last) return;
        buckets.forEach((bucket, b) => {
          if (launched[b] || !bucket.every((i) => ready[i] === batches.length)) return;
          launched[b] = true;
          if (duringBackward) overlap.launchedDuringBackward++;
          const flat = new Float32Array(bucket.reduce((s, i) => s + host[i].grad.length, 0));
          let at = 0;
          for (const i of bucket) {
            const g = named[i][1].grad;
            if (g) flat.set(g.data() as Float32Array, at);
            at += host[i].grad.length;
          }
          inflight.push(comm.allReduce(flat, 'mean').then(() => {
            let o = 0;
            for (const i of bucket) {
              host[i].grad.set(flat.subarray(o, o + host[i].grad.length));
              o += host[i].grad.length;
            }
          }));
        });
      };
      for (const [mb, batch] of batches.entries()) {
        const { batchSize: B, seqLen: T } = batch;
        const ids = tensor(batch.inputIds, [B, T], { dtype: 'i32' });
        const targets = tensor(batch.targets, [B * T], { dtype: 'i32' });
        const embed = (): Tensor => {
          const x = model.embed.forward(ids);
          return model.pos ? add(x, slice(model.pos.weight, 0, 0, T)) : x;
        };
        // Forward with a graph per block, cut at block inputs.
        const x0 = embed();
        const inputs: Tensor[] = [];
        const outputs: Tensor[] = [];
        let x = x0;
        for (const block of blocks) {
          const leaf = x.detach().requiresGrad_(true);
          inputs.push(leaf);
          x = block.forward(leaf, { positionOffset: 0 });
          outputs.push(x);
        }
        const top = x.detach().requiresGrad_(true);
        scope(() => {
          const h = model.normF.forward(top);
          const C = h.shape[2] as number;
          const logits = model.head ? reshape(model.head.forward(h), [B * T, model.spec.vocabSize]) : matmul(reshape(h, [B * T, C]), model.embed.weight, { transB: true });
          const l = crossEntropy(logits, targets, { ignoreIndex: -100 });
          loss += l.item();
          mul(l, opt.lossScale / batches.length).backward();
        });
        finish(headParams, mb, true);
        let grad = top.grad as Tensor;
        for (let i = blocks.length - 1; i >= 0; i--) {
          await new Promise<void>((res) => setImmediate(res)); // NOTE: lets the buckets already launched make progress
          scope(() => outputs[i].backward(grad));
          grad = inputs[i].grad as Tensor;
          finish(blockParams[i], mb, true);
        }
        scope(() => x0.backward(grad));
        finish(host.map((_, i) => i), mb, false); // embeddings (and a tied head) are final only now
        for (const t of [...inputs, top]) t.zeroGrad();
      }
      await Promise.all(inflight);
      const { gradNorm, skipped } = await opt.step(lr);
      if (!skipped) syncModel();
      return { loss: loss / batches.length, gradNorm, skipped, ...(opt.scaler ? { lossScale: opt.scaler.scale } : {}) };
    },
    memory(): MemoryReport {
      const st = opt.optimizer.stateDict();
      const bytes = host.reduce((a, h) => a + h.data.byteLength, 0);
      return memoryReport(bytes, bytes, [...Object.values(st.m), ...Object.values(st.v)].reduce((a, x) => a + x.byteLength, 0), bytes, bytes * 2);
    },
    async fullParameters() {
      return new Map(host.map((h) => [h.name, h.data.slice()]));
    },
    async exportState() {
      return replicatedState(names, host.map((h) => h.data), opt);
    },
    async importState(state: FullTrainingState) {
      loadReplicatedState(names, host.map((h) => h.data), opt, state);
      syncModel();
    },
  };
}
