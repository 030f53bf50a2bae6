// Pipeline parallelism for an @lmkit/model decoder: contiguous block ranges per rank, activations and their gradients sent point to point, GPipe or 1F1B micro-batch schedules.
import type { DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import { AdamW, type AdamWOptions } from '../optim/adamw.js';
import { CommError, type Communicator } from './communicator.js';
import { pipelineSchedule, type PipeOp, type ScheduleKind } from './pipeline-schedule.js';
import { allReduceGradients } from './data-parallel.js';
import { memoryReport, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link pipelineParallel}. */
export interface PipelineOptions {
  /** 'gpipe' or '1f1b'. Default '1f1b'. */
  schedule?: ScheduleKind;
  /** Micro-batches m each step's batch is cut into (must divide the batch size). Default 4. */
  microBatches?: number;
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** The data-parallel group of this rank (2D parallelism): gradients are averaged over it before the step. Default none. */
  dataParallel?: Communicator;
}

/** A pipeline strategy that also reports the op timeline of its last step. */
export interface PipelineStrategy extends ParallelStrategy {
  /** This stage's block range [first, end). */
  readonly blocks: [number, number];
  /** [start, end] (ms, performance.now) of each op of the last step, in run order. */
  lastTimeline(): { start: number; end: number; op: PipeOp }[];
  /** The most micro-batches whose activations this stage held at once in the last step (GPipe: m; 1F1B: ≤ p − s). */
  peakActivations(): number;
}

/**
 * Pipeline parallel: rank s of p holds blocks [s·L/p, (s+1)·L/p); rank 0 also the embeddings,
 * rank p−1 the final norm, head and loss. Each step's batch is cut into m micro-batches run by
 * the GPipe or 1F1B schedule (see {@link pipelineSchedule}); forward activations (B/m, T, C)
 * go to rank s+1 and their gradients come back. A tied embedding lives on the first and last
 * ranks, whose gradients are summed between them (as Megatron does). Gradients equal the
 * sequential model's over the whole batch.
 *
 * @example
 * const pp = await pipelineParallel(comm, model, { schedule: '1f1b', microBatches: 8 });
 * await pp.step([batch], lr); // every rank passes the same batch
 */
export async function pipelineParallel(comm: Communicator, model: DecoderLM, options: PipelineOptions = {}): Promise<PipelineStrategy> {
  assertCheckpointable(model);
  const p = comm.worldSize;
  const s = comm.rank;
  const L = model.blocks.items.length;
  if (L < p) throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: ${p} stages need at least ${p} blocks, the model has ${L}`, { hint: 'use fewer pipeline stages (pp)' });
  const m = options.microBatches ?? 4;
  const kind = options.schedule ?? '1f1b';
  const schedule = pipelineSchedule(kind, p, m)[s];
  const first = Math.floor((s * L) / p);
  const end = Math.floor(((s + 1) * L) / p);
  const isFirst = s === 0;
  const isLast = s === p - 1;
  const tied = model.head === null;
  const named = model.namedParameters();
  // Parameters this stage owns (and updates).
  const mine = new Set<Tensor>();
  for (let i = first; i < end; i++) for (const t of model.blocks.items[i].parameters()) mine.add(t);
  if (isFirst) for (const t of [model.embed, ...(model.pos ? [model.pos] : [])].flatMap((mod) => mod.parameters())) mine.add(t);
  if (isLast) for (const t of [model.normF, ...(model.head ? [model.head] : []), ...(tied ? [model.embed] : [])].flatMap((mod) => mod.parameters())) mine.add(t);
  const owned = named.filter(([, t]) => mine.has(t));
  // Same start everywhere (rank 0's weights), as DDP does.
  for (const [, t] of named) {
    const host = Float32Array.from(t.data() as Float32Array);
    await comm.broadcast(host, 0);
    t.write(host);
  }
  const host = owned.map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data() as Float32Array), grad: new Float32Array(t.size) }));
  const optimizer = new AdamW(host, options.optimizer);
  const clip = options.gradClip ?? 1.0;
  let timeline: { start: number; end: number; op: PipeOp }[] = [];
  let peak = 0;
  const C = model.spec.dModel;

  return {
    name: `pp-${kind}`,
    blocks: [first, end],
    lastTimeline: () => timeline,
    peakActivations: () => peak,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      if (batches.length !== 1) throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: pass one batch per step (it is cut into ${m} micro-batches), got ${batches.length}`);
      const batch = batches[0];
      const { batchSize: B, seqLen: T } = batch;
      if (B % m !== 0) throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: batch size ${B} is not a multiple of microBatches ${m}`, { hint: 'pick microBatches dividing the batch size' });
      const b = B / m;
      model.train();
      for (const [, t] of named) t.zeroGrad();
      const inputs = new Map<number, Tensor>();
      const outputs = new Map<number, Tensor>();
      const sends: Promise<void>[] = [];
      let lossSum = 0;
      timeline = [];
      peak = 0;
      const rows = (a: Int32Array, mb: number): Int32Array => a.subarray(mb * b * T, (mb + 1) * b * T);
      const forward = async (mb: number): Promise<void> => {
        let x: Tensor;
        if (isFirst) {
          const ids = tensor(rows(batch.inputIds, mb), [b, T], { dtype: 'i32' });
          x = model.embed.forward(ids);
          if (model.pos) x = add(x, slice(model.pos.weight, 0, 0, T));
        } else {
          const buf = new Float32Array(b * T * C);
          await comm.recv(s - 1, buf);
          x = tensor(buf, [b, T, C]).requiresGrad_(true);
          inputs.set(mb, x);
        }
        const t0 = performance.now();
        for (let i = first; i < end; i++) x = model.blocks.items[i].forward(x, { positionOffset: 0 });
        if (isLast) {
          const h = model.normF.forward(x);
          const logits = model.head ? reshape(model.head.forward(h), [b * T, model.spec.vocabSize]) : matmul(reshape(h, [b * T, C]), model.embed.weight, { transB: true });
          const targets = tensor(rows(batch.targets, mb), [b * T], { dtype: 'i32' });
          const loss = crossEntropy(logits, targets, { ignoreIndex: -100 });
          lossSum += loss.item();
          x = mul(loss, 1 / m);
        } else sends.push(comm.send(s + 1, x.data() as Float32Array));
        outputs.set(mb, x);
        peak = Math.max(peak, outputs.size);
        timeline.push({ start: t0, end: performance.now(), op: { type: 'F', mb } });
      };
      const backward = async (mb: number): Promise<void> => {
        const out = outputs.get(mb)!;
        let seed: Tensor | undefined;
        if (!isLast) {
          const g = new Float32Array(b * T * C);
          await comm.recv(s + 1, g);
          seed = tensor(g, [b, T, C]);
        }
        const t0 = performance.now();
        scope(() => (seed ? out.backward(seed) : out.backward()));
        if (!isFirst) {
          const x = inputs.get(mb)!;
          sends.push(comm.send(s - 1, x.grad!.data() as Float32Array));
          x.zeroGrad();
          inputs.delete(mb);
        }
        outputs.delete(mb);
        timeline.push({ start: t0, end: performance.now(), op: { type: 'B', mb } });
      };
      // NOTE: sends are not awaited inline: two neighbours sending to each other at once must not wait on each other.
      // After each op the loop yields to the event loop: a send whose channel still held the previous message only
      // moves on there, and ops that need no recv (GPipe's forwards on stage 0, backwards on the last stage) would
      // otherwise run back to back and hold every activation until the whole phase was done (the 43.8 % GPipe bubble).
      for (const op of schedule) {
        await (op.type === 'F' ? forward(op.mb) : backward(op.mb));
        await yieldToEventLoop();
      }
      await Promise.all(sends);
      owned.forEach(([, t], i) => host[i].grad.set(t.grad ? (t.grad.data() as Float32Array) : new Float32Array(t.size)));
      // 2D: average the gradients over the data-parallel replicas of this rank (one flat all-reduce).
      if (options.dataParallel && options.dataParallel.worldSize > 1) await allReduceGradients(options.dataParallel, host, [host.map((_, i) => i)]);
      if (tied && p > 1 && (isFirst || isLast)) {
        // Sum the tied embedding's gradient between the first and last stage (both then apply the same update).
        const k = owned.findIndex(([, t]) => t === model.embed.weight);
        const other = new Float32Array(host[k].grad.length);
        await Promise.all([comm.send(isFirst ? p - 1 : 0, host[k].grad), comm.recv(isFirst ? p - 1 : 0, other)]);
        const g = host[k].grad;
        // NOTE: add in the same order on both ranks (first stage's + last stage's) so both hold identical sums.
        for (let i = 0; i < g.length; i++) g[i] = isFirst ? g[i] + other[i] : other[i] + g[i];
      }
      const ss = new Float64Array(1);
      host.forEach((h, i) => {
        if (tied && isLast && p > 1 && owned[i][1] === model.embed.weight) return; // counted on the first stage
        for (const v of h.grad) ss[0] += v * v;
      });
      await comm.allReduce(ss, 'sum');
      const gradNorm = Math.sqrt(ss[0]);
      if (clip > 0 && Number.isFinite(gradNorm)) {
        const coef = clip / (gradNorm + 1e-6);
        if (coef < 1) for (const h of host) for (let i = 0; i < h.grad.length; i++) h.grad[i] *= coef;
      }
      optimizer.step(lr);
      owned.forEach(([, t], i) => t.write(host[i].data));
      const loss = new Float64Array([lossSum / m]);
      await comm.broadcast(loss, p - 1);
      return { loss: loss[0], gradNorm };
    },
    memory(): MemoryReport {
      const st = optimizer.stateDict();
      const bytes = host.reduce((a, h) => a + h.data.byteLength, 0);
      return memoryReport(bytes, bytes, [...Object.values(st.m), ...Object.values(st.v)].reduce((a, x) => a + x.byteLength, 0), 0, named.reduce((a, [, t]) => a + t.size * 4, 0));
    },
    async fullParameters() {
      const out = new Map<string, Float32Array>();
      for (const [name, t] of named) {
        const owner = [...Array(p).keys()].find((r) => ownerOf(model, t, r, p)) ?? 0;
        const a = Float32Array.from(t.data() as Float32Array);
        await comm.broadcast(a, owner);
        out.set(name, a);
      }
      return out;
    },
  };
}

/** Resolves on the next turn of the event loop (after pending I/O and Atomics wake-ups), not in the current microtask run. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether rank `r` of `p` owns tensor `t` (the first owner of a tied embedding is rank 0). */
function ownerOf(model: DecoderLM, t: Tensor, r: number, p: number): boolean {
  const L = model.blocks.items.length;
  for (let i = Math.floor((r * L) / p); i < Math.floor(((r + 1) * L) / p); i++) if (model.blocks.items[i].parameters().includes(t)) return true;
  if (r === 0 && [model.embed, ...(model.pos ? [model.pos] : [])].some((mod) => mod.parameters().includes(t))) return true;
  return r === p - 1 && [model.normF, ...(model.head ? [model.head] : [])].some((mod) => mod.parameters().includes(t));
}
