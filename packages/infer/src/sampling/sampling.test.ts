import { describe, expect, it } from 'vitest';
import { resolveGenerationConfig } from '../config.js';
import { minPProcessor } from './min-p.js';
import { softmaxRow } from './processor.js';
import { repetitionPenaltyProcessor } from './repetition-penalty.js';
import { argmax, chooseToken, drawFrom, processorsFor } from './sampler.js';
import { temperatureProcessor } from './temperature.js';
import { kthLargest, topKProcessor } from './top-k.js';
import { topPProcessor } from './top-p.js';

const row = () => Float32Array.from([2, 1, 0.5, 3, -1, 0]);
const kept = (l: Float32Array) => Array.from(l.keys()).filter((i) => l[i] !== -Infinity);

describe('logits processors', () => {
  it('temperature divides logits', () => {
    const l = row();
    temperatureProcessor(0.5).process(l, { ids: [] });
    expect(Array.from(l)).toEqual([4, 2, 1, 6, -2, 0]);
  });
  it('top_k keeps exactly the k largest', () => {
    const l = row();
    topKProcessor(2).process(l, { ids: [] });
    expect(kept(l)).toEqual([0, 3]);
    expect(kthLargest(Float32Array.from([5, 1, 4, 2, 3]), 3)).toBe(3);
  });
  it('top_p keeps the smallest nucleus reaching p', () => {
    const p = softmaxRow(row()); // order by prob: 3, 0, 1, 2, 5, 4
    const l = row();
    topPProcessor(p[3] + p[0] - 1e-6).process(l, { ids: [] });
    expect(kept(l)).toEqual([0, 3]);
    const l2 = row();
    topPProcessor(p[3] + p[0] + 1e-6).process(l2, { ids: [] });
    expect(kept(l2)).toEqual([0, 1, 3]);
  });
  it('min_p drops tokens below min_p × top probability', () => {
    const p = softmaxRow(row());
    const l = row();
    minPProcessor(p[1] / p[3] + 1e-6).process(l, { ids: [] });
    expect(kept(l)).toEqual([0, 3]);
  });
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const l = row();
    repetitionPenaltyProcessor(2).process(l, { ids: [0, 4, 0] });
    expect(Array.from(l)).toEqual([1, 1, 0.5, 3, -2, 0]);
  });
});

describe('token choice', () => {
  it('greedy takes the argmax; sampling follows the distribution', () => {
    const config = resolveGenerationConfig({ do_sample: false });
    expect(chooseToken(row(), [], config, { random: () => 0.99 })).toBe(3);
    expect(argmax([1, 5, 5])).toBe(1);
    const probs = Float32Array.from([0.25, 0, 0.75]);
    expect(drawFrom(probs, 0.1)).toBe(0);
    expect(drawFrom(probs, 0.3)).toBe(2);
    expect(drawFrom(probs, 0.9999999)).toBe(2);
  });
  it('builds processors only for options that act', () => {
    expect(processorsFor(resolveGenerationConfig({ do_sample: false })).map((p) => p.name)).toEqual([]);
    expect(processorsFor(resolveGenerationConfig({ temperature: 0.7, top_k: 5, top_p: 0.9, min_p: 0.1, repetition_penalty: 1.3 })).map((p) => p.name)).toEqual([
      'repetition_penalty', 'temperature', 'top_k', 'top_p', 'min_p',
    ]);
  });
  it('config validation names the field', () => {
    expect(() => resolveGenerationConfig({ temperature: 0 })).toThrow(/temperature/);
    expect(() => resolveGenerationConfig({ top_p: 1.5 })).toThrow(/top_p/);
    expect(() => resolveGenerationConfig({ bogus: 1 } as never)).toThrow(/bogus/);
  });
});
