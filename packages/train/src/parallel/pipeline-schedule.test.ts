// The schedule simulator against the analytic bubble (p−1)/(m+p−1) and 1F1B's activation bound p−s.
import { describe, expect, it } from 'vitest';
import { measuredBubble, pipelineSchedule, simulateSchedule, stageOpCosts } from './pipeline-schedule.js';

describe('pipeline schedules', () => {
  for (const kind of ['gpipe', '1f1b'] as const) {
    it(`${kind}: the simulated bubble is (p−1)/(m+p−1) and every op runs once`, () => {
      for (const [p, m] of [[1, 1], [2, 4], [4, 8], [4, 16], [8, 3], [3, 1]]) {
        const sched = pipelineSchedule(kind, p, m);
        for (const ops of sched) {
          expect(ops.filter((o) => o.type === 'F').map((o) => o.mb).sort((a, b) => a - b)).toEqual([...Array(m).keys()]);
          expect(ops.filter((o) => o.type === 'B').map((o) => o.mb).sort((a, b) => a - b)).toEqual([...Array(m).keys()]);
        }
        const sim = simulateSchedule(sched, 1, 2);
        expect(sim.makespan).toBe((m + p - 1) * 3);
        expect(sim.bubble).toBeCloseTo((p - 1) / (m + p - 1), 12);
        expect(measuredBubble(sim.timeline)).toBeCloseTo((p - 1) / (m + p - 1), 12);
        const peak = sim.peakInFlight;
        if (kind === 'gpipe') expect(peak).toEqual(Array(p).fill(m));
        else peak.forEach((k, s) => expect(k).toBe(Math.min(p - s, m)));
      }
    });
  }

  it('p = 4, m = 8 gives the reference 27.3% bubble', () => {
    expect(simulateSchedule(pipelineSchedule('1f1b', 4, 8)).bubble).toBeCloseTo(0.2727, 4);
  });

  it('unequal stages: the slowest stage sets the pace (GPipe p=2, m=4, last stage 1.5× slower)', () => {
    // Stage 1 (the head and loss) takes 1.5 and 3 per op, stage 0 takes 1 and 2: the fill is 1, the drain 2·1 + ...
    const sim = simulateSchedule(pipelineSchedule('gpipe', 2, 4), [1, 1.5], [2, 3]);
    // Forwards: stage 1 is the bottleneck, F3 ends at 1 + 4·1.5 = 7; its backwards end at 7 + 4·3 = 19; stage 0's B3 ends at 19 + 2 = 21.
    expect(sim.makespan).toBe(21);
    expect(sim.bubble).toBeCloseTo(1 - (12 + 18) / (2 * 21), 12);
    expect(sim.bubble).toBeGreaterThan(sim.predictedBubble);
    const costs = stageOpCosts(sim.timeline);
    expect(costs).toEqual({ tf: [1, 1.5], tb: [2, 3] });
  });

  it('rejects bad arguments with a typed error', () => {
    expect(() => pipelineSchedule('gpipe', 0, 4)).toThrow(/positive integers/);
    expect(() => pipelineSchedule('zb' as 'gpipe', 2, 4)).toThrow(/gpipe/);
  });
});
