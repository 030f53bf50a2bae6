// The optimizer side of a model-parallel stage (pipeline and/or tensor parallel): fp32 masters, gradient reduction (optionally ZeRO 1/2 over the data-parallel group), the shared optimizer step, and full-state export/import.
import type { DecoderLM } from '@lmkit/model';
import type { AdamWOptions, AdamWState, OptimParam } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import { CommError, type Communicator } from './communicator.js';
import { allReduceGradients } from './data-parallel.js';
import { FlatLayout, type ShardPiece } from './internal/flat-shards.js';
import { OptimizerStep } from './internal/optimizer-step.js';
import { fullEntry } from './internal/shard-state.js';
import type { ModelStage, StageParam } from './model-stage.js';
import type { FullTrainingState } from './strategy.js';

/** Options for {@link ModelParallelOptimizer}. */
export interface ModelParallelOptimizerOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** This stage's tensor-parallel group. Default none. */
  tp?: Communicator | null;
  /** The pipeline group (stages of one replica). Default none. */
  pp?: Communicator | null;
  /** With a tied embedding split over stages: the pipeline rank of the other holder (first ↔ last stage). Default none. */
  tiedPeer?: { rank: number; isFirst: boolean } | null;
  /**
   * ZeRO over the data-parallel group (DeepSpeed with Megatron's 3D layout): 1 keeps AdamW
   * moments for this rank's 1/dp slice of the flat buffer of what it updates (the gradient is
   * reduce-scattered into its region of a full flat buffer), 2 keeps only that slice of the
   * reduced gradient.
   * 0 keeps the whole state on every replica. Default 0.
   */
  zeroStage?: 0 | 1 | 2;
  /** The data-parallel group ZeRO shards over (the same model rank in every replica). Default none (ZeRO is then a no-op). */
  dataParallel?: Communicator | null;
}

/** ZeRO over the data-parallel group: the flat layout of the updated parameters and this rank's slice of it. */
interface DpShards {
  stage: 1 | 2;
  dp: Communicator;
  /** Indices (into trainables) of the parameters this rank updates, in flat-layout order. */
  members: number[];
  layout: FlatLayout;
  /** This dp rank's pieces of the flat buffer. */
  pieces: ShardPiece[];
  /** Stage 1: the whole flat gradient buffer (the reduce-scatter writes this rank's region); stage 2: null. */
  flat: Float32Array | null;
  /** The reduced gradient of this rank's slice (a view of `flat` in stage 1). */
  shard: Float32Array;
}

/**
 * What one rank of a pipeline and/or tensor-parallel replica updates, and how. Every trainable
 * stage parameter has an fp32 master and a gradient buffer. Each parameter is updated by exactly
 * one rank of the replica, so the shared {@link OptimizerStep} sums the squared norm once per
 * element over the replica (tp then pp all-reduce): replicated parameters (norms, positions) on
 * tensor-parallel rank 0, which then broadcasts them over the tp group; a tied embedding split
 * over the first and last stage on the first stage, which sends it to the last. With bf16/fp16
 * the compute weights are the rounded masters, and an fp16 overflow on any rank skips the step
 * on every rank of the replica (data-parallel replicas see the same averaged gradients).
 * With `zeroStage` 1/2 and a data-parallel group (DeepSpeed's ZeRO in a 3D layout), what this
 * rank updates is laid out as one flat buffer cut into dp slices: the gradient is
 * reduce-scattered over dp (stage 1 keeps the whole flat buffer, stage 2 only its slice), AdamW
 * keeps moments for this dp rank's slice only, the norm and found-inf are also summed over dp,
 * and the updated slices are all-gathered.
 */
export class ModelParallelOptimizer {
  /** The shared optimizer step over the parameters this rank updates. */
  readonly opt: OptimizerStep;
  /** Trainable stage parameters (aligned with masters and grads). */
  readonly trainables: readonly StageParam[];
  /** fp32 master values. */
  readonly masters: Float32Array[];
  /** Gradient buffers (the reduced gradient the step applies). */
  readonly grads: Float32Array[];
  private readonly updated: boolean[];
  private readonly denseSize: Map<string, number>;
  private readonly tp: Communicator | null;
  private readonly pp: Communicator | null;
  private readonly tied: { index: number; rank: number; isFirst: boolean } | null;
  private readonly zero: DpShards | null;
  /** The ZeRO stage in effect over the data-parallel group (0 without one). */
  readonly zeroStage: 0 | 1 | 2;

  constructor(
    private readonly stage: ModelStage,
    model: DecoderLM,
    options: ModelParallelOptimizerOptions = {},
  ) {
    this.tp = options.tp && options.tp.worldSize > 1 ? options.tp : null;
    this.pp = options.pp && options.pp.worldSize > 1 ? options.pp : null;
    this.trainables = stage.params.filter((p) => p.trainable);
    this.masters = this.trainables.map((p) => Float32Array.from(p.tensor.data() as Float32Array));
    // NOTE: ZeRO keeps its gradients in its flat buffer (stage 1) or slice (stage 2); these stay empty.
    this.grads = this.trainables.map((p) => new Float32Array(options.zeroStage && options.dataParallel && options.dataParallel.worldSize > 1 ? 0 : p.tensor.size));
    const tiedAt = options.tiedPeer ? this.trainables.findIndex((p) => p.name === 'embed.weight') : -1;
    this.tied = options.tiedPeer && tiedAt >= 0 ? { index: tiedAt, ...options.tiedPeer } : null;
    this.updated = this.trainables.map((p, i) => (p.sharded || !this.tp || this.tp.rank === 0) && !(this.tied && this.tied.index === i && !this.tied.isFirst));
    this.denseSize = new Map(model.namedParameters().map(([n, t]) => [n, t.size]));
    const dp = options.dataParallel && options.dataParallel.worldSize > 1 ? options.dataParallel : null;
    const zeroStage = options.zeroStage ?? 0;
    this.zero = dp && zeroStage > 0 ? dpShards(dp, zeroStage as 1 | 2, this.trainables.map((_, i) => i).filter((i) => this.updated[i]), this.masters) : null;
    const params: OptimParam[] = [];
    if (this.zero) {
      // NOTE: the AdamW sees this rank's pieces only: views of the masters and of the reduced gradient slice.
      const z = this.zero;
      for (const pc of z.pieces) {
        const i = z.members[pc.index];
        params.push({ name: this.trainables[i].name, shape: this.trainables[i].tensor.shape, data: this.masters[i].subarray(pc.from, pc.to), grad: z.shard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from) });
      }
    } else {
      this.trainables.forEach((p, i) => {
        if (this.updated[i]) params.push({ name: p.name, shape: p.tensor.shape, data: this.masters[i], grad: this.grads[i] });
      });
    }
    // NOTE: with ZeRO the dp ranks hold disjoint slices, so the norm and the fp16 found-inf flag are summed over dp too (all ranks).
    this.zeroStage = this.zero?.stage ?? 0;
    this.opt = new OptimizerStep(this.groupComm([this.tp, this.pp, this.zero?.dp ?? null], options), params, { sharded: true, optimizer: options.optimizer, gradClip: options.gradClip, precision: options.precision, lossScaler: options.lossScaler });
    if (this.opt.format) this.writeCompute();
  }

  /** The factor the loss is multiplied by before backward (fp16 loss scale, else 1). */
  get lossScale(): number {
    return this.opt.lossScale;
  }

  /**
   * Copies the stage's gradients in, sums a split tied embedding between its two stages, and
   * averages over `dataParallel` (the tied sum first: the same arithmetic with or without ZeRO).
   * With ZeRO the flat gradient of what this rank updates is reduce-scattered over the
   * data-parallel group given at construction instead (this rank gets the mean of its slice).
   */
  async reduceGradients(dataParallel?: Communicator): Promise<void> {
    if (this.zero) return this.reduceSharded(this.zero);
    this.trainables.forEach((p, i) => (p.tensor.grad ? this.grads[i].set(p.tensor.grad.data() as Float32Array) : this.grads[i].fill(0)));
    if (this.tied) await this.sumTied(this.grads[this.tied.index]);
    const flat = this.trainables.map((p, i) => ({ name: p.name, shape: p.tensor.shape, data: this.masters[i], grad: this.grads[i] }));
    if (dataParallel && dataParallel.worldSize > 1) await allReduceGradients(dataParallel, flat, [flat.map((_, i) => i)]);
  }

  /** Sums the tied embedding's gradient `g` in place with the other holder's (first ↔ last stage). */
  private async sumTied(g: Float32Array): Promise<void> {
    if (!this.tied || !this.pp) return;
    const other = new Float32Array(g.length);
    await Promise.all([this.pp.send(this.tied.rank, g), this.pp.recv(this.tied.rank, other)]);
    // NOTE: add in the same order on both ranks (first stage's + last stage's) so both hold identical sums.
    for (let i = 0; i < g.length; i++) g[i] = this.tied.isFirst ? g[i] + other[i] : other[i] + g[i];
  }

  /** The optimizer step at `lr`; then the copies that other ranks updated are received and the compute weights written. */
  async step(lr: number): Promise<{ gradNorm: number; skipped: boolean }> {
    const result = await this.opt.step(lr);
    if (result.skipped) return result;
    if (this.zero) await this.gatherShards(this.zero);
    await this.syncCopies();
    this.writeCompute();
    return result;
  }

  /** This stage's part of the full training state by dense parameter name (collective over tp; the caller distributes it over the pipeline). */
  async exportState(): Promise<FullTrainingState> {
    const own = this.opt.state();
    if (this.zero) for (const kind of ['m', 'v'] as const) own.optimizer[kind] = await this.gatherMoments(this.zero, own.optimizer[kind]);
    const index = new Map(this.trainables.map((p, i) => [p, i]));
    const pick = (kind: 'master' | 'm' | 'v') => (p: StageParam): Float32Array => {
      const i = index.get(p);
      if (i === undefined) return new Float32Array(p.tensor.size);
      return kind === 'master' ? this.masters[i] : (own.optimizer[kind][p.name] ?? new Float32Array(p.tensor.size));
    };
    const [master, m, v] = [await this.gather(pick('master')), await this.gather(pick('m')), await this.gather(pick('v'))];
    return { master, optimizer: { step: own.optimizer.step, m: Object.fromEntries(m), v: Object.fromEntries(v) }, ...(own.scaler ? { scaler: own.scaler } : {}) };
  }

  /** Loads a full training state: each rank takes its slices (every rank calls it with the same state). */
  importState(state: FullTrainingState): void {
    // NOTE: every rank checks every parameter first, so a bad state fails on all ranks alike.
    const full = this.trainables.map((p) => fullEntry(state, p.name, this.denseSize.get(p.name)!));
    const optimizer: AdamWState = { step: state.optimizer.step, m: {}, v: {} };
    this.trainables.forEach((p, i) => {
      const slice = (a: Float32Array): Float32Array => localSlice(p, a);
      this.masters[i].set(slice(full[i].master));
      if (this.updated[i]) [optimizer.m[p.name], optimizer.v[p.name]] = [slice(full[i].m), slice(full[i].v)];
    });
    if (this.zero) {
      // NOTE: ZeRO keeps the moments of this dp rank's pieces only.
      const z = this.zero;
      const pieces = { step: optimizer.step, m: {} as Record<string, Float32Array>, v: {} as Record<string, Float32Array> };
      for (const pc of z.pieces) {
        const name = this.trainables[z.members[pc.index]].name;
        [pieces.m[name], pieces.v[name]] = [optimizer.m[name].slice(pc.from, pc.to), optimizer.v[name].slice(pc.from, pc.to)];
      }
      Object.assign(optimizer, pieces);
    }
    this.opt.loadState({ optimizer, ...(state.scaler ? { scaler: state.scaler } : {}) });
    this.writeCompute();
  }

  /** The fp32 master of `p` (a frozen parameter: its tensor, kept at zero). */
  masterOf(p: StageParam): Float32Array {
    const i = this.trainables.indexOf(p);
    return i >= 0 ? this.masters[i] : (p.tensor.data() as Float32Array);
  }

  /** Bytes of masters (+ rounded compute copies in half precision), gradients and AdamW moments. */
  bytes(): { params: number; grads: number; optimizer: number } {
    const sum = (a: readonly { byteLength: number }[]): number => a.reduce((s, x) => s + x.byteLength, 0);
    const st = this.opt.optimizer.stateDict();
    const grads = this.zero ? (this.zero.flat ?? this.zero.shard).byteLength : sum(this.grads);
    return { params: sum(this.masters) * (this.opt.format ? 2 : 1), grads, optimizer: sum([...Object.values(st.m), ...Object.values(st.v)]) };
  }

  /**
   * This stage's dense tensors by name from `get(param)`, replicated ones taken from tp rank 0
   * (the only rank whose moments are kept). The caller distributes them over the pipeline.
   */
  async gather(get: (p: StageParam) => Float32Array): Promise<Map<string, Float32Array>> {
    const out = await this.stage.assemble(get);
    if (this.tp) for (const p of this.stage.params) if (!p.sharded) await this.tp.broadcast(out.get(p.name)!, 0);
    return out;
  }

  /** A communicator whose all-reduce sums over each of `groups` in turn (tp, pp, then the ZeRO dp group): the ranks the step agrees over. */
  private groupComm(groups: readonly (Communicator | null)[], options: ModelParallelOptimizerOptions): Communicator {
    const live = groups.filter((g): g is Communicator => g !== null);
    if (live.length <= 1) {
      const one = live[0] ?? options.tp ?? options.pp;
      if (!one) throw new CommError('TRAIN_COMM_BAD_ARGS', 'a model-parallel optimizer needs its tensor-parallel or pipeline group');
      return one;
    }
    const size = live.reduce((n, g) => n * g.worldSize, 1);
    const comm = Object.create(live[0]) as Communicator;
    Object.defineProperty(comm, 'worldSize', { value: size });
    comm.allReduce = async (data, op) => {
      for (const g of live) await g.allReduce(data, 'sum');
      if (op === 'mean') for (let i = 0; i < data.length; i++) data[i] /= size;
    };
    return comm;
  }

  /** ZeRO: the tied sum on the local gradients, then the flat gradient of the updated parameters reduced over dp (mean). */
  private async reduceSharded(z: DpShards): Promise<void> {
    const local = this.trainables.map((p) => (p.tensor.grad ? (p.tensor.grad.data() as Float32Array) : new Float32Array(p.tensor.size)));
    if (this.tied) await this.sumTied((local[this.tied.index] = Float32Array.from(local[this.tied.index])));
    const packed = z.flat ?? new Float32Array(z.layout.padded);
    packed.fill(0);
    z.layout.pack(z.members.map((i) => local[i]), packed);
    // NOTE: both stages reduce-scatter (2(dp−1)/dp·Ψ per rank with the all-gather, as DDP); stage 1 keeps the whole flat buffer, its slice written in place.
    await z.dp.reduceScatter(packed, z.shard, 'mean');
  }

  /** ZeRO: every dp rank's updated fp32 master slice all-gathered into the full masters. */
  private async gatherShards(z: DpShards): Promise<void> {
    const mine = new Float32Array(z.layout.shardSize);
    for (const pc of z.pieces) mine.set(this.masters[z.members[pc.index]].subarray(pc.from, pc.to), pc.shardOffset);
    const full = new Float32Array(z.layout.padded);
    await z.dp.allGather(mine, full);
    z.layout.unpack(full, z.members.map((i) => this.masters[i]));
  }

  /** ZeRO: this rank's moment pieces all-gathered over dp into full local arrays by name. */
  private async gatherMoments(z: DpShards, pieces: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
    const mine = new Float32Array(z.layout.shardSize);
    for (const pc of z.pieces) mine.set(pieces[this.trainables[z.members[pc.index]].name], pc.shardOffset);
    const full = new Float32Array(z.layout.padded);
    await z.dp.allGather(mine, full);
    return Object.fromEntries(z.layout.entries.map((e) => [this.trainables[z.members[e.index]].name, full.slice(e.offset, e.offset + e.size)]));
  }

  /** Replicated masters from tp rank 0; the tied shard's master from the first stage to the last. */
  private async syncCopies(): Promise<void> {
    if (this.tp) for (let i = 0; i < this.trainables.length; i++) if (!this.trainables[i].sharded) await this.tp.broadcast(this.masters[i], 0);
    if (this.tied && this.pp) {
      const master = this.masters[this.tied.index];
      if (this.tied.isFirst) await this.pp.send(this.tied.rank, master);
      else await this.pp.recv(this.tied.rank, master);
    }
  }

  /** The compute weights: the masters, rounded to bf16/fp16 in half precision. */
  private writeCompute(): void {
    this.trainables.forEach((p, i) => {
      if (!this.opt.format) return p.tensor.write(this.masters[i]);
      const w = new Float32Array(this.masters[i].length);
      this.opt.toCompute(this.masters[i], w);
      p.tensor.write(w);
    });
  }
}

/** Checks a ZeRO stage for a pipeline/tensor-parallel strategy: 0, 1 or 2 (ZeRO-3 does not combine with model parallelism, as in DeepSpeed). */
export function zeroStageOf(stage: number | undefined): 0 | 1 | 2 {
  if (stage === undefined || stage === 0 || stage === 1 || stage === 2) return stage ?? 0;
  throw new CommError('TRAIN_COMM_BAD_ARGS', `ZeRO stage ${String(stage)} does not combine with pipeline or tensor parallelism (only 1 and 2 do, over the data-parallel group)`, {
    hint: 'use --zero 1 or 2 with pp/tp, or ZeRO-3 with dp alone (DeepSpeed does not combine ZeRO-3 with pipeline parallelism either)',
  });
}

/** The ZeRO layout over `dp` of the `members` (indices into `masters`) a rank updates. */
function dpShards(dp: Communicator, stage: 1 | 2, members: number[], masters: readonly Float32Array[]): DpShards {
  const layout = new FlatLayout(members.map((i) => masters[i].length), dp.worldSize);
  const flat = stage === 1 ? new Float32Array(layout.padded) : null;
  const S = layout.shardSize;
  return { stage, dp, members, layout, pieces: layout.pieces(dp.rank), flat, shard: flat ? flat.subarray(dp.rank * S, (dp.rank + 1) * S) : new Float32Array(S) };
}

/** The elements of dense array `a` that `p` holds on this rank (all of it when replicated). */
function localSlice(p: StageParam, a: Float32Array): Float32Array {
  if (!p.sharded) return a.slice();
  const out = new Float32Array(p.tensor.size);
  for (const [at, from, n] of p.runs!) out.set(a.subarray(from, from + n), at);
  return out;
}
