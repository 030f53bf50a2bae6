// Checks that a checkpoint's run settings allow this run to continue it, and lays out the schedule for a changed step total.
import { TrainError } from '../errors.js';
import { createSchedule, type LrSchedule } from '../schedule/lr-schedule.js';
import type { LoadedCheckpoint } from './checkpoint.js';

/** Run settings that must match for a resume to continue the same training (the data stream and the numerics depend on them). */
export const RESUME_KEYS = ['objective', 'precision', 'batchSize', 'seqLen', 'gradAccumSteps', 'seed'] as const;

/**
 * Throws `TRAIN_RESUME_MISMATCH` naming the first of {@link RESUME_KEYS} on which `run` differs
 * from the checkpoint's run, and returns the schedule to continue with: the checkpoint's, re-laid
 * to end at `steps` when the total changed (as nanoGPT does when max_iters changes).
 *
 * @example
 * const schedule = checkResume(ck, { objective: 'clm', precision: 'bf16', batchSize: 8, seqLen: 128, gradAccumSteps: 1, seed: 1337 }, 200);
 */
export function checkResume(ck: LoadedCheckpoint, run: Record<(typeof RESUME_KEYS)[number], unknown>, steps: number): LrSchedule {
  for (const key of RESUME_KEYS) {
    if (ck.state.run[key] !== run[key]) {
      throw new TrainError('TRAIN_RESUME_MISMATCH', `${ck.dir}: checkpoint was trained with ${key} = ${String(ck.state.run[key])}, this run has ${String(run[key])}`, {
        hint: `resume with the same ${key}, or start a fresh run in another --out directory`,
        details: { field: key },
      });
    }
  }
  const step = ck.state.step;
  if (ck.state.run.steps === undefined || steps === ck.state.run.steps) return createSchedule(ck.state.schedule);
  if (steps <= step) {
    throw new TrainError('TRAIN_RESUME_MISMATCH', `${ck.dir}: the checkpoint is at step ${step}; steps = ${steps} would not train further`, {
      hint: `give --steps larger than ${step} to continue, or resume with the original ${String(ck.state.run.steps)}`,
      details: { field: 'steps' },
    });
  }
  return createSchedule({ ...ck.state.schedule, totalSteps: steps });
}
