// Parses `--parallel dp=2,pp=1,tp=1` (with `--zero` and `--schedule`) into a checked ParallelSpec.
import { CommError } from './communicator.js';
import type { ScheduleKind } from './pipeline-schedule.js';
import type { StagePartition } from './pipeline.js';

/** How training is split across ranks. */
export interface ParallelSpec {
  /** Data-parallel replicas. Default 1. */
  dp: number;
  /** Pipeline stages. Default 1. */
  pp: number;
  /** Tensor-parallel ranks. Default 1. */
  tp: number;
  /** ZeRO stage for data parallelism (0 = plain DDP). Default 0. */
  zero: 0 | 1 | 2 | 3;
  /** Pipeline schedule. Default '1f1b'. */
  schedule: ScheduleKind;
  /** Pipeline micro-batches per step. Default 4. */
  microBatches: number;
  /** Blocks per pipeline stage (`stages=3+1` or `stages=balanced`): counts, 'balanced' or 'uniform'. Default 'uniform'. */
  partition?: StagePartition;
}

/** dp · pp · tp: the number of ranks the spec needs. */
export function worldSizeOf(spec: ParallelSpec): number {
  return spec.dp * spec.pp * spec.tp;
}

/**
 * Parses a spec like `dp=2,pp=1,tp=1` (keys in any order, missing ones = 1; also `zero=2`,
 * `schedule=gpipe`, `mb=8`, and `stages=3+1` / `stages=balanced` for the blocks of each pipeline
 * stage, checked against the model's block count when the pipeline is built). Any dp, pp and tp compose (2D: dp × pp, dp × tp, pp × tp; 3D:
 * dp × pp × tp, ranks laid out tp innermost); ZeRO 1/2 shard over the data-parallel group of any
 * layout, ZeRO-3 needs dp alone.
 *
 * @example
 * parseParallelSpec('dp=2', { zero: 3 }); // { dp: 2, pp: 1, tp: 1, zero: 3, schedule: '1f1b', microBatches: 4 }
 */
export function parseParallelSpec(text: string, overrides: Partial<ParallelSpec> = {}): ParallelSpec {
  const spec: ParallelSpec = { dp: 1, pp: 1, tp: 1, zero: 0, schedule: '1f1b', microBatches: 4 };
  const bad = (why: string): never => {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `--parallel "${text}": ${why}`, { hint: 'write it like dp=2,pp=1,tp=1 (optionally zero=1|2|3, schedule=gpipe|1f1b, mb=<micro-batches>, stages=<n+n…>|balanced)' });
  };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, value, extra] = part.split('=');
    if (value === undefined || extra !== undefined) bad(`"${part}" is not key=value`);
    if (key === 'schedule') {
      if (value !== 'gpipe' && value !== '1f1b') bad(`schedule must be gpipe or 1f1b, got "${value}"`);
      spec.schedule = value as ScheduleKind;
      continue;
    }
    if (key === 'stages') {
      if (value === 'balanced' || value === 'uniform') spec.partition = value;
      else {
        const counts = value.split('+').map((n) => (/^\d+$/.test(n) ? Number(n) : NaN));
        if (counts.some((n) => !(n >= 1))) bad(`stages must be block counts ≥ 1 joined by + (e.g. stages=3+1), 'balanced' or 'uniform', got "${value}"`);
        spec.partition = counts;
      }
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) bad(`${key} must be a non-negative integer, got "${value}"`);
    if (key === 'dp' || key === 'pp' || key === 'tp') {
      if (n < 1) bad(`${key} must be ≥ 1`);
      spec[key] = n;
    } else if (key === 'zero') spec.zero = n as ParallelSpec['zero'];
    else if (key === 'mb' || key === 'microBatches') spec.microBatches = n;
    else bad(`unknown key "${key}" (dp, pp, tp, zero, schedule, mb, stages)`);
  }
  Object.assign(spec, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));
  if (![0, 1, 2, 3].includes(spec.zero)) bad(`zero must be 0, 1, 2 or 3, got ${spec.zero}`);
  if (spec.microBatches < 1) bad('mb must be ≥ 1');
  if (spec.partition !== undefined && spec.partition !== 'uniform' && spec.pp === 1) bad('stages needs pipeline parallelism (pp ≥ 2)');
  if (Array.isArray(spec.partition) && spec.partition.length !== spec.pp) bad(`stages gives ${spec.partition.length} block counts for pp=${spec.pp} stages`);
  // NOTE: as DeepSpeed's 3D, ZeRO 1/2 shard over the data-parallel group of a pp × tp replica; ZeRO-3 (parameters gathered layer by layer) does not compose with pp/tp.
  if (spec.zero === 3 && spec.pp * spec.tp > 1) bad('ZeRO-3 does not combine with pipeline or tensor parallelism; use zero=1 or 2 with pp/tp (over the dp group), or ZeRO-3 with dp alone');
  return spec;
}
