// Pipeline parallelism for an @lmkit/model decoder: contiguous block ranges per rank, activations and their gradients sent point to point, GPipe or 1F1B micro-batch schedules.
import { flopsPerToken, type ArchSpec, type DecoderLM } from '@lmkit/model';
import type { Tensor } from '@lmkit/tensor';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import { CommError, type Communicator } from './communicator.js';
import { pipelineSchedule, type PipeOp, type ScheduleKind } from './pipeline-schedule.js';
import { megatronStage } from './megatron-stage.js';
import { ModelParallelOptimizer, zeroStageOf } from './model-parallel-optimizer.js';
import { denseStage, type StageMicro } from './model-stage.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

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
  /** The data-parallel group of this rank (2D/3D parallelism): gradients are averaged over it before the step. Default none. */
  dataParallel?: Communicator;
  /** The tensor-parallel group of this rank (3D: pp × tp): each stage is split Megatron-style over it. Default none. */
  tensorParallel?: Communicator;
  /** With tensorParallel: split the embedding and the head by vocabulary rows and compute the loss on split logits. Default true. */
  vocabParallel?: boolean;
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** ZeRO stage over `dataParallel` (DeepSpeed 3D): 1 shards the AdamW state of this rank's parameters over the replicas, 2 also their gradients (reduce-scatter); 3 is refused. Default 0. */
  zeroStage?: 0 | 1 | 2;
  /**
   * Blocks per stage: explicit counts (each ≥ 1, one per stage, summing to the model's blocks), or 'balanced' to even out
   * the estimated per-stage cost (see {@link stageRanges}). Default uniform: stage s holds [s·L/p, (s+1)·L/p).
   */
  partition?: StagePartition;
}

/** How the blocks are cut into pipeline stages: 'uniform', 'balanced' by estimated cost, or explicit block counts per stage. */
export type StagePartition = 'uniform' | 'balanced' | readonly number[];

/** A pipeline strategy that also reports the op timeline of its last step. */
export interface PipelineStrategy extends ParallelStrategy {
  /** This stage's block range [first, end). */
  readonly blocks: [number, number];
  /** [start, end] (ms, performance.now) of each op of the last step, in run order. */
  lastTimeline(): { start: number; end: number; op: PipeOp }[];
  /** The most micro-batches whose activations this stage held at once in the last step (GPipe: m; 1F1B: ≤ p − s). */
  peakActivations(): number;
  /** The dense gradients the last step applied (after data-parallel averaging, the tied-embedding sum and clipping), gathered like fullParameters. */
  lastGradients(): Promise<Map<string, Float32Array>>;
}

/**
 * Pipeline parallel: rank s of p holds a contiguous block range ({@link stageRanges}: uniform
 * [s·L/p, (s+1)·L/p) by default, or `partition`'s counts or cost balance); rank 0 also the embeddings,
 * rank p−1 the final norm, head and loss. Each step's batch is cut into m micro-batches run by
 * the GPipe or 1F1B schedule (see {@link pipelineSchedule}); forward activations (B/m, T, C)
 * go to rank s+1 and their gradients come back. A tied embedding lives on the first and last
 * ranks, whose gradients are summed between them (as Megatron does; the first stage then updates
 * it and sends it to the last). The update is the shared optimizer step (bf16/fp16 with fp32
 * masters; `exportState`/`importState` for checkpoints). Gradients equal the
 * sequential model's over the whole batch. With `tensorParallel` (3D), every stage is itself
 * split over its tensor-parallel group ({@link megatronStage}) and `comm` links the matching
 * tensor-parallel ranks of adjacent stages.
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
  const ranges = stageRanges({ ...model.spec, nLayer: L }, p, options.partition);
  const [first, end] = ranges[s];
  const isFirst = s === 0;
  const isLast = s === p - 1;
  const tied = model.head === null;
  const tp = options.tensorParallel && options.tensorParallel.worldSize > 1 ? options.tensorParallel : null;
  const named = model.namedParameters();
  // Same start everywhere (rank 0's weights), as DDP does.
  for (const [, t] of named) {
    const host = Float32Array.from(t.data() as Float32Array);
    await comm.broadcast(host, 0);
    t.write(host);
  }
  const where = { blocks: [first, end] as [number, number], embed: isFirst, head: isLast };
  const stage = tp ? megatronStage(tp, model, { ...where, vocabParallel: options.vocabParallel }) : denseStage(model, where);
  const mpo = new ModelParallelOptimizer(stage, model, {
    optimizer: options.optimizer, gradClip: options.gradClip, precision: options.precision, lossScaler: options.lossScaler, zeroStage: zeroStageOf(options.zeroStage), dataParallel: options.dataParallel ?? null, tp, pp: comm,
    tiedPeer: tied && p > 1 && (isFirst || isLast) ? { rank: isFirst ? p - 1 : 0, isFirst } : null,
  });
  const gradOf = new Map(mpo.trainables.map((x, i) => [x, mpo.grads[i]]));
  let timeline: { start: number; end: number; op: PipeOp }[] = [];
  let peak = 0;
  const C = model.spec.dModel;

  /** Every dense tensor by name from its owning stage (from `stageMaps`, this stage's); collective over the pipeline. */
  const distribute = async (stageMap: Map<string, Float32Array>): Promise<Map<string, Float32Array>> => {
    const out = new Map<string, Float32Array>();
    for (const [name, t] of named) {
      const owner = [...Array(p).keys()].find((r) => ownerOf(model, t, r, ranges)) ?? 0;
      const a = owner === s ? stageMap.get(name)! : new Float32Array(t.size);
      await comm.broadcast(a, owner);
      out.set(name, a);
    }
    return out;
  };

  return {
    name: `pp-${kind}${tp ? '×tp' : ''}${mpo.zeroStage ? `×zero${mpo.zeroStage}` : ''}`,
    precision: options.precision ?? 'fp32',
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
      for (const x of stage.params) x.tensor.zeroGrad();
      const micros = new Map<number, StageMicro>();
      const sends: Promise<void>[] = [];
      let lossSum = 0;
      timeline = [];
      peak = 0;
      const rows = (a: Int32Array, mb: number): Int32Array => a.subarray(mb * b * T, (mb + 1) * b * T);
      const forward = async (mb: number): Promise<void> => {
        let input: Int32Array | Float32Array = rows(batch.inputIds, mb);
        if (!isFirst) {
          input = new Float32Array(b * T * C);
          await comm.recv(s - 1, input);
        }
        const t0 = performance.now();
        const micro = await stage.forward(input, isLast ? rows(batch.targets, mb) : null, b, T, mpo.lossScale / m);
        if (isLast) lossSum += micro.loss;
        else sends.push(comm.send(s + 1, micro.output!));
        micros.set(mb, micro);
        peak = Math.max(peak, micros.size);
        timeline.push({ start: t0, end: performance.now(), op: { type: 'F', mb } });
      };
      const backward = async (mb: number): Promise<void> => {
        let grad: Float32Array | null = null;
        if (!isLast) {
          grad = new Float32Array(b * T * C);
          await comm.recv(s + 1, grad);
        }
        const t0 = performance.now();
        const gin = await micros.get(mb)!.backward(grad);
        if (!isFirst) sends.push(comm.send(s - 1, gin!));
        micros.delete(mb);
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
      // Data-parallel average, the tied embedding's sum between first and last stage, then the shared optimizer step.
      await mpo.reduceGradients(options.dataParallel);
      const { gradNorm, skipped } = await mpo.step(lr);
      const loss = new Float64Array([lossSum / m]);
      await comm.broadcast(loss, p - 1);
      return { loss: loss[0], gradNorm, skipped, ...(mpo.opt.scaler ? { lossScale: mpo.opt.scaler.scale } : {}) };
    },
    memory(): MemoryReport {
      const b = mpo.bytes();
      return memoryReport(b.params, b.grads, b.optimizer, 0, named.reduce((a, [, t]) => a + t.size * 4, 0));
    },
    fullParameters: async () => distribute(await mpo.gather((x) => mpo.masterOf(x))),
    async lastGradients() {
      if (mpo.zeroStage) throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: lastGradients is not kept with ZeRO-${mpo.zeroStage} (each replica holds a slice of the reduced gradient)`, { hint: 'read the gradients with zeroStage 0' });
      return distribute(await mpo.gather((x) => gradOf.get(x) ?? new Float32Array(x.tensor.size)));
    },
    async exportState(): Promise<FullTrainingState> {
      const own = await mpo.exportState();
      const m = await distribute(new Map(Object.entries(own.optimizer.m)));
      const v = await distribute(new Map(Object.entries(own.optimizer.v)));
      // NOTE: the step count and the loss scaler are the same on every rank.
      return { master: await distribute(own.master), optimizer: { step: own.optimizer.step, m: Object.fromEntries(m), v: Object.fromEntries(v) }, ...(own.scaler ? { scaler: own.scaler } : {}) };
    },
    async importState(state: FullTrainingState): Promise<void> {
      mpo.importState(state);
    },
  };
}

/** Resolves on the next turn of the event loop (after pending I/O and Atomics wake-ups), not in the current microtask run. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Whether rank `r` owns tensor `t` given every stage's block range (the first owner of a tied embedding is rank 0). */
function ownerOf(model: DecoderLM, t: Tensor, r: number, ranges: readonly [number, number][]): boolean {
  for (let i = ranges[r][0]; i < ranges[r][1]; i++) if (model.blocks.items[i].parameters().includes(t)) return true;
  if (r === 0 && [model.embed, ...(model.pos ? [model.pos] : [])].some((mod) => mod.parameters().includes(t))) return true;
  return r === ranges.length - 1 && [model.normF, ...(model.head ? [model.head] : [])].some((mod) => mod.parameters().includes(t));
}

/**
 * The block range [first, end) of each of `p` stages of a decoder with `spec.nLayer` blocks — the one place stages are cut.
 * 'uniform' (default) gives stage s [s·L/p, (s+1)·L/p). Explicit counts (Megatron's first/last-stage layer counts,
 * DeepSpeed's partition) must be p integers ≥ 1 summing to L. 'balanced' picks the contiguous cut whose most expensive
 * stage is cheapest (then the most even spread), with estimated training FLOPs per token: {@link flopsPerToken} of one block on each block, the
 * embedding lookup (C) on the first stage, the final norm, LM head and cross-entropy (6·V·C + 10·V) on the last; when
 * the uniform cut is as good it is kept.
 *
 * @example
 * stageRanges(model.spec, 2, [3, 1]); // [[0, 3], [3, 4]]
 */
export function stageRanges(spec: ArchSpec, p: number, partition: StagePartition = 'uniform'): [number, number][] {
  const L = spec.nLayer;
  const bad = (why: string): never => {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline partition: ${why}`, { hint: `give ${p} block counts ≥ 1 summing to ${L} (e.g. stages=${[L - p + 1, ...Array(p - 1).fill(1)].join('+')}), 'balanced' or 'uniform'`, details: { field: 'partition' } });
  };
  if (L < p) bad(`${p} stages need at least ${p} blocks, the model has ${L}`);
  const uniform = Array.from({ length: p }, (_, s) => Math.floor(((s + 1) * L) / p) - Math.floor((s * L) / p));
  let counts: readonly number[];
  if (partition === 'uniform') counts = uniform;
  else if (partition === 'balanced') counts = balancedCounts(spec, p, uniform);
  else if (Array.isArray(partition)) {
    if (partition.length !== p) bad(`${partition.length} block counts for ${p} stages (${partition.join('+')})`);
    partition.forEach((n, s) => {
      if (!Number.isInteger(n) || n < 1) bad(`stage ${s} gets ${n} blocks; every stage needs an integer ≥ 1`);
    });
    const sum = partition.reduce((a, n) => a + n, 0);
    if (sum !== L) bad(`the counts ${partition.join('+')} sum to ${sum}, the model has ${L} blocks`);
    counts = partition;
  } else counts = bad(`unknown partition ${JSON.stringify(partition)}`);
  const ranges: [number, number][] = [];
  let at = 0;
  for (const n of counts) ranges.push([at, (at += n)]);
  return ranges;
}

/** Block counts minimising the most expensive stage's estimated cost, then the spread (sum of squared stage costs), over contiguous cuts; `uniform` when it is as good. */
function balancedCounts(spec: ArchSpec, p: number, uniform: readonly number[]): number[] {
  const L = spec.nLayer;
  const T = spec.maxPositions;
  const block = flopsPerToken({ ...spec, nLayer: 1 }, T) - flopsPerToken({ ...spec, nLayer: 0 }, T);
  const embed = spec.dModel;
  const head = 6 * spec.vocabSize * spec.dModel + 10 * spec.vocabSize;
  // Costs in units of one block keep the squares well inside float precision.
  const cost = (s: number, n: number): number => n + ((s === 0 ? embed : 0) + (s === p - 1 ? head : 0)) / block;
  type Score = [worst: number, squares: number];
  const better = (a: Score, b: Score): boolean => a[0] < b[0] - 1e-9 || (a[0] <= b[0] + 1e-9 && a[1] < b[1] - 1e-9);
  const score = (counts: readonly number[]): Score => [Math.max(...counts.map((n, s) => cost(s, n))), counts.reduce((a, n, s) => a + cost(s, n) ** 2, 0)];
  // best[s][k]: the best score when stages s..p−1 hold the last k blocks; pick[s][k] the count of stage s there.
  const best: Score[][] = Array.from({ length: p + 1 }, () => Array.from({ length: L + 1 }, (): Score => [Infinity, Infinity]));
  const pick = Array.from({ length: p }, () => new Array<number>(L + 1).fill(0));
  best[p][0] = [0, 0];
  for (let s = p - 1; s >= 0; s--) {
    for (let k = p - s; k <= L - s; k++) {
      for (let n = 1; n <= k - (p - s - 1); n++) {
        const c = cost(s, n);
        const rest = best[s + 1][k - n];
        const here: Score = [Math.max(c, rest[0]), c * c + rest[1]];
        if (better(here, best[s][k])) [best[s][k], pick[s][k]] = [here, n];
      }
    }
  }
  if (!better(best[0][L], score(uniform))) return [...uniform];
  const counts: number[] = [];
  for (let s = 0, k = L; s < p; k -= counts[s], s++) counts.push(pick[s][k]);
  return counts;
}
