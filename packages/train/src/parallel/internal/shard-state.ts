// Moves training state between its full form (tensors by parameter name) and what a rank keeps: the whole state (replicated strategies) or its flat-shard pieces (sharded ones), for checkpoints.
import { TrainError } from '../../errors.js';
import type { AdamWState } from '../../optim/adamw.js';
import type { Communicator } from '../communicator.js';
import type { FullTrainingState } from '../strategy.js';
import type { FlatLayout } from './flat-shards.js';
import type { OptimizerStep } from './optimizer-step.js';

/** One flat-sharded group of parameters: their names in layout order and this rank's master pieces (aligned with `layout.pieces(rank)`). */
export interface ShardedGroup {
  /** The flat layout of the group. */
  layout: FlatLayout;
  /** Parameter names, in layout entry order. */
  names: readonly string[];
  /** This rank's fp32 master pieces, one per entry of `layout.pieces(rank)`. */
  masters: readonly Float32Array[];
}

/** The full arrays of `name` in `state` (master, m, v), checked against `size`; a typed error names what is missing. */
export function fullEntry(state: FullTrainingState, name: string, size: number): { master: Float32Array; m: Float32Array; v: Float32Array } {
  const master = state.master.get(name);
  const m = state.optimizer.m[name];
  const v = state.optimizer.v[name];
  for (const [what, a] of [['master weights', master], ['AdamW m', m], ['AdamW v', v]] as const) {
    if (!a || a.length !== size) {
      throw new TrainError('TRAIN_BAD_CHECKPOINT', `the training state has ${a ? `${a.length} values of ${what}` : `no ${what}`} for "${name}", the model has ${size}`, {
        hint: 'the checkpoint is for another model; resume with its config or start fresh',
        details: { parameter: name },
      });
    }
  }
  return { master: master!, m: m!, v: v! };
}

/** A replicated strategy's full state: `masters` by `names` plus the (full) moments of `opt`. */
export function replicatedState(names: readonly string[], masters: readonly Float32Array[], opt: OptimizerStep): FullTrainingState {
  const own = opt.state();
  return { master: new Map(names.map((n, i) => [n, masters[i].slice()])), optimizer: own.optimizer, ...(own.scaler ? { scaler: own.scaler } : {}) };
}

/** Loads a full state into a replicated strategy's `masters` and `opt`. */
export function loadReplicatedState(names: readonly string[], masters: readonly Float32Array[], opt: OptimizerStep, state: FullTrainingState): void {
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  names.forEach((n, i) => {
    const full = fullEntry(state, n, masters[i].length);
    masters[i].set(full.master);
    m[n] = full.m;
    v[n] = full.v;
  });
  opt.loadState({ optimizer: { step: state.optimizer.step, m, v }, ...(state.scaler ? { scaler: state.scaler } : {}) });
}

/** All-gathers every rank's pieces (aligned with `layout.pieces(rank)`) into full per-parameter arrays. */
async function gatherPieces(comm: Communicator, layout: FlatLayout, pieces: readonly Float32Array[]): Promise<Float32Array[]> {
  const mine = new Float32Array(layout.shardSize);
  layout.pieces(comm.rank).forEach((pc, k) => mine.set(pieces[k], pc.shardOffset));
  const full = new Float32Array(layout.padded);
  await comm.allGather(mine, full);
  return layout.entries.map((e) => full.slice(e.offset, e.offset + e.size));
}

/** Gathers the groups' masters and `opt`'s moments into a {@link FullTrainingState} on every rank (collective). */
export async function exportShardedState(comm: Communicator, groups: readonly ShardedGroup[], opt: OptimizerStep): Promise<FullTrainingState> {
  const own = opt.state();
  const out: FullTrainingState = { master: new Map(), optimizer: { step: own.optimizer.step, m: {}, v: {} }, ...(own.scaler ? { scaler: own.scaler } : {}) };
  for (const g of groups) {
    const pieces = g.layout.pieces(comm.rank);
    const names = pieces.map((pc) => g.names[pc.index]);
    const [master, m, v] = [
      await gatherPieces(comm, g.layout, g.masters),
      await gatherPieces(comm, g.layout, names.map((n) => own.optimizer.m[n])),
      await gatherPieces(comm, g.layout, names.map((n) => own.optimizer.v[n])),
    ];
    g.names.forEach((name, i) => {
      out.master.set(name, master[i]);
      out.optimizer.m[name] = m[i];
      out.optimizer.v[name] = v[i];
    });
  }
  return out;
}

/** Writes this rank's pieces of `state` into the groups' masters and loads its moment pieces into `opt` (every rank calls it). */
export function importShardedState(rank: number, groups: readonly ShardedGroup[], opt: OptimizerStep, state: FullTrainingState): void {
  // NOTE: every rank checks every parameter first, so a bad state fails on all ranks alike (none waits in a collective).
  for (const g of groups) g.layout.entries.forEach((e) => fullEntry(state, g.names[e.index], e.size));
  const optimizer: AdamWState = { step: state.optimizer.step, m: {}, v: {} };
  for (const g of groups) {
    g.layout.pieces(rank).forEach((pc, k) => {
      const name = g.names[pc.index];
      const full = fullEntry(state, name, g.layout.entries[pc.index].size);
      g.masters[k].set(full.master.subarray(pc.from, pc.to));
      optimizer.m[name] = full.m.slice(pc.from, pc.to);
      optimizer.v[name] = full.v.slice(pc.from, pc.to);
    });
  }
  opt.loadState({ optimizer, ...(state.scaler ? { scaler: state.scaler } : {}) });
}
