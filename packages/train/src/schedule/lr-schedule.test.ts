import { describe, expect, it } from 'vitest';
import { createSchedule, learningRateAt } from './lr-schedule.js';

describe('learning-rate schedules', () => {
  it('cosine with llm.c warmup matches hand values', () => {
    const s = createSchedule({ kind: 'cosine', maxLr: 1e-3, warmupSteps: 4, totalSteps: 12, finalLrFrac: 0.1 });
    expect(s.at(0)).toBeCloseTo(2.5e-4, 15); // 1e-3 · 1/4
    expect(s.at(3)).toBeCloseTo(1e-3, 15);
    expect(s.at(4)).toBeCloseTo(1e-3, 15); // r = 0
    expect(s.at(8)).toBeCloseTo(1e-4 + 0.5 * (1e-3 - 1e-4), 15); // r = 0.5 → midpoint 5.5e-4
    expect(s.at(6)).toBeCloseTo(1e-4 + 0.5 * (1 + Math.cos(Math.PI / 4)) * 9e-4, 15);
    expect(s.at(12)).toBeCloseTo(1e-4, 15);
    expect(s.at(500)).toBeCloseTo(1e-4, 15);
  });
  it('nanoGPT warmup is lr·(it+1)/(warmup+1)', () => {
    expect(learningRateAt(0, { maxLr: 6e-4, warmupSteps: 2000, totalSteps: 600000, warmupStyle: 'nanogpt' })).toBeCloseTo(6e-4 / 2001, 18);
    expect(learningRateAt(1999, { maxLr: 6e-4, warmupSteps: 2000, totalSteps: 600000, warmupStyle: 'nanogpt' })).toBeCloseTo(6e-4 * 2000 / 2001, 18);
  });
  it('linear decays in a straight line to the final fraction', () => {
    const s = createSchedule({ kind: 'linear', maxLr: 1, warmupSteps: 0, totalSteps: 10, finalLrFrac: 0 });
    expect([0, 5, 9, 10].map((k) => s.at(k))).toEqual([1, 0.5, expect.closeTo(0.1, 12), 0]);
  });
  it('wsd is flat until 80% then decays as 1 − √r', () => {
    const s = createSchedule({ kind: 'wsd', maxLr: 1, warmupSteps: 10, totalSteps: 100, finalLrFrac: 0 });
    expect(s.at(4)).toBeCloseTo(0.5, 12);
    expect(s.at(50)).toBe(1);
    expect(s.at(79)).toBe(1);
    expect(s.at(80)).toBe(1);
    expect(s.at(85)).toBeCloseTo(1 - Math.sqrt(0.25), 12);
    expect(s.at(100)).toBeCloseTo(0, 12);
  });
  it('constant holds after warmup', () => {
    const s = createSchedule({ kind: 'constant', maxLr: 0.3, warmupSteps: 3, totalSteps: 5 });
    expect([0, 2, 3, 99].map((k) => s.at(k))).toEqual([expect.closeTo(0.1, 12), expect.closeTo(0.3, 12), 0.3, 0.3]);
  });
  it('rejects impossible settings naming the field', () => {
    expect(() => createSchedule({ totalSteps: 10, warmupSteps: 20 })).toThrow(/schedule.warmupSteps/);
    expect(() => createSchedule({ totalSteps: 0 })).toThrow(/schedule.totalSteps/);
    expect(() => createSchedule({ totalSteps: 5, kind: 'step' as never })).toThrow(/schedule.kind/);
  });
});
