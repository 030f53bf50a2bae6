// GPipe and 1F1B micro-batch schedules for p pipeline stages, and an event simulator that measures their bubble and activation memory.
import { CommError } from './communicator.js';

/** A pipeline schedule kind: GPipe (all forwards, then all backwards) or 1F1B (PipeDream-flush). */
export type ScheduleKind = 'gpipe' | '1f1b';

/** One unit of work on a stage: the forward or backward of micro-batch `mb`. */
export interface PipeOp {
  /** 'F' forward, 'B' backward. */
  type: 'F' | 'B';
  /** Micro-batch index, 0 ≤ mb < m. */
  mb: number;
}

/**
 * The ops each stage runs, in order. GPipe: F0..F(m−1), then B0..B(m−1) (every backward
 * order gives the same (p−1)/(m+p−1) bubble; in order keeps the point-to-point FIFO simple).
 * 1F1B: stage s warms up with min(p−s−1, m) forwards, then alternates one forward and one
 * backward, then drains the remaining backwards; at most p−s micro-batches are in flight.
 *
 * @example
 * pipelineSchedule('1f1b', 4, 8)[3]; // [F0, B0, F1, B1, ...] on the last stage
 */
export function pipelineSchedule(kind: ScheduleKind, stages: number, microBatches: number): PipeOp[][] {
  const p = stages;
  const m = microBatches;
  if (!(Number.isInteger(p) && p >= 1 && Number.isInteger(m) && m >= 1)) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: stages and microBatches must be positive integers, got ${p} and ${m}`);
  }
  if (kind !== 'gpipe' && kind !== '1f1b') throw new CommError('TRAIN_COMM_BAD_ARGS', `pipeline: schedule must be "gpipe" or "1f1b", got "${String(kind)}"`);
  const F = (mb: number): PipeOp => ({ type: 'F', mb });
  const B = (mb: number): PipeOp => ({ type: 'B', mb });
  return Array.from({ length: p }, (_, s) => {
    if (kind === 'gpipe') return [...Array.from({ length: m }, (_, i) => F(i)), ...Array.from({ length: m }, (_, i) => B(i))];
    const warm = Math.min(p - s - 1, m);
    const ops: PipeOp[] = [];
    for (let i = 0; i < warm; i++) ops.push(F(i));
    let f = warm;
    let b = 0;
    while (f < m) {
      ops.push(F(f++));
      ops.push(B(b++));
    }
    while (b < m) ops.push(B(b++));
    return ops;
  });
}

/** What {@link simulateSchedule} reports. */
export interface ScheduleSimulation {
  /** Time from the first op to the last. */
  makespan: number;
  /** Idle fraction: 1 − busy / makespan, averaged over stages (equal stages: 1 − m(t_f + t_b) / makespan). */
  bubble: number;
  /** The analytic GPipe / 1F1B bubble (p−1)/(m+p−1), for comparison. */
  predictedBubble: number;
  /** Per stage: the most micro-batches whose activations are held at once (forward done, backward not). */
  peakInFlight: number[];
  /** Per stage: [start, end, op] of every op. */
  timeline: { start: number; end: number; op: PipeOp }[][];
}

/** An op's duration: one number for every stage, or one per stage (stages of unequal cost). */
export type OpCost = number | readonly number[];

/**
 * Runs `schedule` on an idealized machine: each stage executes its ops in order; F(s, i) waits
 * for F(s−1, i), B(s, i) for B(s+1, i) (and the last stage's B for its own F); a forward takes
 * `tf`, a backward `tb` (per stage when arrays, e.g. measured with {@link stageOpCosts}),
 * communication is free and every stage has its own core.
 */
export function simulateSchedule(schedule: PipeOp[][], tf: OpCost = 1, tb: OpCost = 2): ScheduleSimulation {
  const p = schedule.length;
  const m = schedule[0].filter((o) => o.type === 'F').length;
  const cost = (c: OpCost, s: number): number => (typeof c === 'number' ? c : c[s]);
  const doneF = Array.from({ length: p }, () => new Array<number>(m).fill(NaN));
  const doneB = Array.from({ length: p }, () => new Array<number>(m).fill(NaN));
  const next = new Array<number>(p).fill(0);
  const free = new Array<number>(p).fill(0);
  const timeline: ScheduleSimulation['timeline'] = Array.from({ length: p }, () => []);
  let remaining = schedule.reduce((s, ops) => s + ops.length, 0);
  while (remaining > 0) {
    let progressed = false;
    for (let s = 0; s < p; s++) {
      const op = schedule[s][next[s]];
      if (!op) continue;
      const dep = op.type === 'F' ? (s === 0 ? 0 : doneF[s - 1][op.mb]) : s === p - 1 ? doneF[s][op.mb] : doneB[s + 1][op.mb];
      if (Number.isNaN(dep)) continue;
      const start = Math.max(free[s], dep);
      const end = start + cost(op.type === 'F' ? tf : tb, s);
      (op.type === 'F' ? doneF : doneB)[s][op.mb] = end;
      free[s] = end;
      timeline[s].push({ start, end, op });
      next[s]++;
      remaining--;
      progressed = true;
    }
    if (!progressed) throw new CommError('TRAIN_COMM_BAD_ARGS', 'pipeline schedule deadlocks: an op waits on one that never runs');
  }
  const makespan = Math.max(...free);
  const peakInFlight = timeline.map((ops) => {
    let live = 0;
    let peak = 0;
    for (const { op } of ops) {
      live += op.type === 'F' ? 1 : -1;
      peak = Math.max(peak, live);
    }
    return peak;
  });
  const busy = timeline.map((ops) => ops.reduce((a, o) => a + o.end - o.start, 0));
  const bubble = busy.reduce((a, b) => a + (1 - b / makespan), 0) / p;
  return { makespan, bubble, predictedBubble: (p - 1) / (m + p - 1), peakInFlight, timeline };
}

/** Per stage, the mean forward and backward op durations of a real run's timelines (to feed {@link simulateSchedule}). */
export function stageOpCosts(timelines: readonly { start: number; end: number; op: PipeOp }[][]): { tf: number[]; tb: number[] } {
  const mean = (ops: readonly { start: number; end: number }[]): number => ops.reduce((a, o) => a + o.end - o.start, 0) / Math.max(1, ops.length);
  return { tf: timelines.map((t) => mean(t.filter((o) => o.op.type === 'F'))), tb: timelines.map((t) => mean(t.filter((o) => o.op.type === 'B'))) };
}

/** Measured bubble of a real run: 1 − busy / wall per stage, averaged, from each stage's op intervals (ms). */
export function measuredBubble(timelines: readonly { start: number; end: number }[][]): number {
  const t0 = Math.min(...timelines.map((t) => t[0].start));
  const t1 = Math.max(...timelines.map((t) => t[t.length - 1].end));
  const idle = timelines.map((t) => 1 - t.reduce((s, o) => s + o.end - o.start, 0) / (t1 - t0));
  return idle.reduce((a, b) => a + b, 0) / idle.length;
}
