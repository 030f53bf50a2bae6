import { describe, expect, it } from 'vitest';
import { SeededRng } from '../rng.js';
import { causalLm } from './causal-lm.js';
import { maskedLm } from './masked-lm.js';
import { IGNORE_INDEX } from './objective.js';
import { randomSpanLayout, spanCorruption, spanCounts } from './span-corruption.js';

const iota = (n: number, offset = 0): Int32Array => Int32Array.from({ length: n }, (_, i) => (i + offset) % 200);

describe('causal LM', () => {
  it('shifts targets by one', () => {
    const obj = causalLm();
    expect(obj.windowLength(4)).toBe(5);
    const b = obj.makeBatch(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 2, 4, new SeededRng(0));
    expect(Array.from(b.inputIds)).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    expect(Array.from(b.targets)).toEqual([2, 3, 4, 5, 7, 8, 9, 10]);
    expect(b.targetCount).toBe(8);
  });
});

describe('masked LM (BERT 15% with 80/10/10)', () => {
  it('selects ~15% of positions, of which ~80% [MASK], ~10% random, ~10% kept', () => {
    const obj = maskedLm({ maskTokenId: 255, dataVocabSize: 200 });
    const B = 64;
    const T = 512;
    const windows = iota(B * T);
    const batch = obj.makeBatch(windows, B, T, new SeededRng(3));
    const n = B * T;
    let selected = 0;
    let masked = 0;
    let kept = 0;
    let random = 0;
    for (let i = 0; i < n; i++) {
      if (batch.targets[i] === IGNORE_INDEX) {
        expect(batch.inputIds[i]).toBe(windows[i]);
        continue;
      }
      selected++;
      expect(batch.targets[i]).toBe(windows[i]);
      if (batch.inputIds[i] === 255) masked++;
      else if (batch.inputIds[i] === windows[i]) kept++;
      else random++;
    }
    // n = 32768: σ(selected/n) ≈ 0.002; σ of the 80/10/10 shares ≈ 0.004 / 0.003.
    expect(Math.abs(selected / n - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThan(0.02);
    // a random draw equal to the original counts as kept: kept ≈ 0.1 + 0.1/200.
    expect(Math.abs(random / selected - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(kept / selected - 0.1)).toBeLessThan(0.015);
    expect(batch.targetCount).toBe(selected);
  });
  it('never selects special ids and is deterministic in the rng', () => {
    const obj = maskedLm({ maskTokenId: 9, dataVocabSize: 8, specialIds: [0] });
    const w = Int32Array.from({ length: 4000 }, (_, i) => (i % 2 === 0 ? 0 : 1 + (i % 7)));
    const a = obj.makeBatch(w, 4, 1000, new SeededRng(1));
    const b = obj.makeBatch(w, 4, 1000, new SeededRng(1));
    expect(a.inputIds).toEqual(b.inputIds);
    for (let i = 0; i < w.length; i += 2) expect(a.targets[i]).toBe(IGNORE_INDEX);
  });
});

describe('span corruption (T5: noise 0.15, mean span 3, sentinels)', () => {
  it('span layout: counts as T5 computes them, spans ≥ 1, alternating keep/noise', () => {
    expect(spanCounts(512)).toEqual({ noiseTokens: 77, spans: 26 });
    const rng = new SeededRng(5);
    let noiseTotal = 0;
    let spanTotal = 0;
    for (let t = 0; t < 200; t++) {
      const layout = randomSpanLayout(512, rng);
      expect(layout.noise.length).toBe(26);
      expect(layout.keep.length).toBe(26);
      expect(layout.noise.reduce((a, b) => a + b)).toBe(77);
      expect(layout.keep.reduce((a, b) => a + b)).toBe(512 - 77);
      expect(Math.min(...layout.noise, ...layout.keep)).toBeGreaterThanOrEqual(1);
      noiseTotal += 77;
      spanTotal += layout.noise.length;
    }
    expect(noiseTotal / spanTotal).toBeCloseTo(77 / 26, 6); // mean span ≈ 3
  });
  it('builds inputs with sentinels and targets that restore exactly the hidden tokens', () => {
    const V = 300;
    const obj = spanCorruption({ vocabSize: V });
    const T = 128;
    const L = obj.windowLength(T);
    const { spans } = spanCounts(L);
    expect(L + 2 * spans).toBeLessThanOrEqual(T + 1);
    const B = 4;
    const windows = iota(B * L, 7);
    const batch = obj.makeBatch(windows, B, T, new SeededRng(11));
    for (let b = 0; b < B; b++) {
      const row = Array.from(batch.inputIds.subarray(b * T, (b + 1) * T));
      const tg = Array.from(batch.targets.subarray(b * T, (b + 1) * T));
      const firstTarget = tg.findIndex((x) => x !== IGNORE_INDEX);
      const inputPart = row.slice(0, firstTarget + 1);
      const targetPart = tg.filter((x) => x !== IGNORE_INDEX);
      // reconstruct the original window from inputs + targets
      const spansIn: number[][] = [];
      let cur: number[] = [];
      for (const id of targetPart) {
        if (id >= V - 100) {
          if (cur.length) spansIn.push(cur);
          cur = [];
        } else cur.push(id);
      }
      spansIn.push(cur);
      const rebuilt: number[] = [];
      let k = 0;
      for (const id of inputPart) {
        if (id >= V - 100) {
          expect(id).toBe(V - 1 - k);
          rebuilt.push(...spansIn[k++]);
        } else rebuilt.push(id);
      }
      expect(rebuilt).toEqual(Array.from(windows.subarray(b * L, (b + 1) * L)));
      expect(k).toBe(spans);
      expect(targetPart.length).toBe(spanCounts(L).noiseTokens + spans);
    }
  });
  it('rejects a vocabulary without room for sentinels', () => {
    expect(() => spanCorruption({ vocabSize: 50 })).toThrow(/sentinels/);
  });
});
