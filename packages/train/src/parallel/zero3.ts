// ZeRO stage 3 / FSDP FULL_SHARD for an @lmkit/model decoder: parameters, gradients and AdamW state sharded; each unit gathered for its forward and again for its backward.
import type { DecoderLM } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, noGrad, reshape, scope, slice, tensor, type Tensor } from '@lmkit/tensor';
import { assertCheckpointable, headLossBackward } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions, OptimParam } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import type { Communicator } from './communicator.js';
import { FlatLayout } from './internal/flat-shards.js';
import { OptimizerStep, optimizerStepOptions } from './internal/optimizer-step.js';
import { exportShardedState, importShardedState, type ShardedGroup } from './internal/shard-state.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link fullyShardedDecoder}. */
export interface FullyShardedOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** Overwrite a unit's weights with NaN when it is released, so a use without a gather shows as NaN. Default true. */
  poisonReleased?: boolean;
  /** 'fp32', or 'bf16'/'fp16': the shards stay fp32 masters, gathered units are rounded (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
}

/** One FSDP unit: a set of tensors flattened together, of which this rank keeps a 1/N shard. */
interface Unit {
  name: string;
  tensors: Tensor[];
  names: string[];
  layout: FlatLayout;
  paramShard: Float32Array;
  gradShard: Float32Array;
}

/**
 * Fully sharded data parallel (ZeRO-3) over a dense decoder without dropout. Units are the
 * transformer blocks plus a root (embeddings, final norm, head). Between steps a rank keeps
 * only its shard of each unit's flat parameters, gradients and AdamW moments: 16Ψ/N bytes in
 * fp32. A step runs the forward unit by unit without a graph (all-gather → compute → release),
 * then the backward in reverse, gathering each block again and recomputing it (activation
 * checkpointing at block granularity), and reduce-scatters each unit's gradient as soon as
 * it is complete: all-gather Ψ twice + reduce-scatter Ψ = 3(N−1)/N·Ψ elements sent per rank.
 * The root is gathered for the embedding forward, released over the blocks, and gathered
 * again from the head to the end of backward (the tied embedding needs it at both ends). The
 * shards are fp32 masters; with bf16/fp16 a gathered unit is rounded before use, and the update
 * is the shared {@link OptimizerStep}.
 *
 * @example
 * const fsdp = await fullyShardedDecoder(comm, createModel(getPreset('tiny')) as DecoderLM, { optimizer: { lr: 1e-3 } });
 * await fsdp.step([batch], lr);
 */
export async function fullyShardedDecoder(comm: Communicator, model: DecoderLM, options: FullyShardedOptions = {}): Promise<ParallelStrategy> {
  assertCheckpointable(model);
  const N = comm.worldSize;
  const r = comm.rank;
  const poison = options.poisonReleased ?? true;
  const named = model.namedParameters();
  const nameOf = new Map(named.map(([n, t]) => [t, n]));
  const blockTensors = model.blocks.items.map((b) => b.parameters());
  const inBlocks = new Set(blockTensors.flat());
  const groups: [string, Tensor[]][] = [['root', named.map(([, t]) => t).filter((t) => !inBlocks.has(t))], ...blockTensors.map((ts, i): [string, Tensor[]] => [`blocks.${i}`, ts])];
  // DDP-style start: rank 0's weights everywhere, then each rank keeps its shard.
  for (const [, t] of named) {
    const host = Float32Array.from(t.data() as Float32Array);
    await comm.broadcast(host, 0);
    t.write(host);
  }
  const units: Unit[] = groups.map(([name, tensors]) => {
    const layout = new FlatLayout(tensors.map((t) => t.size), N);
    const flat = new Float32Array(layout.padded);
    layout.pack(tensors.map((t) => t.data() as Float32Array), flat);
    const S = layout.shardSize;
    return { name, tensors, names: tensors.map((t) => nameOf.get(t)!), layout, paramShard: flat.slice(r * S, (r + 1) * S), gradShard: new Float32Array(S) };
  });
  const optParams: OptimParam[] = units.flatMap((u) => u.layout.pieces(r).map((pc) => ({
    name: u.names[pc.index],
    shape: u.tensors[pc.index].shape,
    data: u.paramShard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from),
    grad: u.gradShard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from),
  })));
  const opt = new OptimizerStep(comm, optParams, optimizerStepOptions(options, true));
  const sharded: ShardedGroup[] = units.map((u) => ({ layout: u.layout, names: u.names, masters: u.layout.pieces(r).map((pc) => u.paramShard.subarray(pc.shardOffset, pc.shardOffset + pc.to - pc.from)) }));
  const largest = Math.max(...units.map((u) => u.layout.padded));
  const nan = new Float32Array(largest).fill(NaN);
  const root = units[0];
  const blockUnits = units.slice(1);

  const gather = async (u: Unit): Promise<void> => {
    const full = new Float32Array(u.layout.padded);
    await comm.allGather(u.paramShard, full);
    opt.toCompute(full, full);
    u.layout.entries.forEach((e) => u.tensors[e.index].write(full.subarray(e.offset, e.offset + e.size)));
  };
  const release = (u: Unit): void => {
    if (poison) u.tensors.forEach((t) => t.write(nan.subarray(0, t.size)));
  };
  /** Reduce-scatters (mean) the unit's accumulated tensor gradients into its gradient shard (+=) and clears them. */
  const reduceGrads = async (u: Unit, scaleBy: number): Promise<void> => {
    const flat = new Float32Array(u.layout.padded);
    u.layout.entries.forEach((e) => {
      const g = u.tensors[e.index].grad;
      if (g) flat.set(g.data() as Float32Array, e.offset);
    });
    const mine = new Float32Array(u.layout.shardSize);
    await comm.reduceScatter(flat, mine, 'mean');
    for (let i = 0; i < mine.length; i++) u.gradShard[i] += mine[i] * scaleBy;
    u.tensors.forEach((t) => t.zeroGrad());
  };

  const microStep = async (batch: ObjectiveBatch, lossScale: number): Promise<number> => {
    const { batchSize: B, seqLen: T } = batch;
    const ids = tensor(batch.inputIds, [B, T], { dtype: 'i32' });
    const targets = tensor(batch.targets, [B, T], { dtype: 'i32' });
    const embed = (): Tensor => {
      const x = model.embed.forward(ids); // (B, T, C)
      return model.pos ? add(x, slice(model.pos.weight, 0, 0, T)) : x;
    };
    const saved: Tensor[] = [];
    await gather(root);
    let x = noGrad(() => embed());
    release(root);
    for (const [i, u] of blockUnits.entries()) {
      await gather(u);
      saved.push(x);
      x = noGrad(() => model.blocks.items[i].forward(x, { positionOffset: 0 }));
      release(u);
    }
    await gather(root);
    const head = x.detach().requiresGrad_(true);
    const value = headLossBackward(model, head, targets, B, T, lossScale);
    let grad = head.grad as Tensor;
    const leaves = [head];
    for (let i = blockUnits.length - 1; i >= 0; i--) {
      await gather(blockUnits[i]);
      const input = saved[i].detach().requiresGrad_(true);
      leaves.push(input);
      scope(() => model.blocks.items[i].forward(input, { positionOffset: 0 }).backward(grad));
      grad = input.grad as Tensor;
      await reduceGrads(blockUnits[i], 1);
      release(blockUnits[i]);
    }
    scope(() => embed().backward(grad));
    await reduceGrads(root, 1);
    release(root);
    for (const leaf of leaves) leaf.zeroGrad();
    for (const t of [x, ...saved, ...leaves, ids, targets]) t.dispose();
    return value;
  };

  return {
    name: 'zero3',
    precision: options.precision ?? 'fp32',
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.train();
      for (const u of units) u.gradShard.fill(0);
      let loss = 0;
      for (const b of batches) loss += await microStep(b, opt.lossScale / batches.length);
      const { gradNorm, skipped } = await opt.step(lr);
      return { loss: loss / batches.length, gradNorm, skipped, ...(opt.scaler ? { lossScale: opt.scaler.scale } : {}) };
    },
    memory(): MemoryReport {
      const st = opt.optimizer.stateDict();
      const optBytes = [...Object.values(st.m), ...Object.values(st.v)].reduce((s, a) => s + a.byteLength, 0);
      const sum = (f: (u: Unit) => number): number => units.reduce((s, u) => s + f(u), 0);
      // NOTE: transient = root + the largest block gathered at once; workspace = the model's own tensors and their grads.
      const transient = 4 * (root.layout.padded + Math.max(...blockUnits.map((u) => u.layout.padded)));
      return memoryReport(sum((u) => u.paramShard.byteLength), sum((u) => u.gradShard.byteLength), optBytes, transient, 8 * sum((u) => u.layout.numel));
    },
    async fullParameters() {
      const out = new Map<string, Float32Array>();
      for (const u of units) {
        const full = new Float32Array(u.layout.padded);
        await comm.allGather(u.paramShard, full);
        u.layout.entries.forEach((e) => out.set(u.names[e.index], full.slice(e.offset, e.offset + e.size)));
      }
      return out;
    },
    async exportState() {
      return exportShardedState(comm, sharded, opt);
    },
    async importState(state: FullTrainingState) {
      importShardedState(r, sharded, opt, state);
    },
  };
}
