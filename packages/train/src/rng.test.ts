import { describe, expect, it } from 'vitest';
import { SeededRng } from './rng.js';

describe('SeededRng', () => {
  it('is deterministic, resumable and roughly uniform', () => {
    const a = new SeededRng(42);
    const b = new SeededRng(42);
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
    const c = SeededRng.fromState(a.state());
    expect(Array.from({ length: 10 }, () => c.float())).toEqual(Array.from({ length: 10 }, () => a.float()));
    expect(new SeededRng(43).u32()).not.toBe(new SeededRng(42).u32());
    const counts = new Array(10).fill(0);
    const r = new SeededRng(1);
    for (let i = 0; i < 100000; i++) counts[r.int(10)]++;
    for (const n of counts) expect(Math.abs(n - 10000)).toBeLessThan(500); // ~5σ
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 20000; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / 20000)).toBeLessThan(0.04);
    expect(Math.abs(sq / 20000 - 1)).toBeLessThan(0.05);
  });
  it('rejects a damaged state', () => {
    expect(() => SeededRng.fromState([1, 2, 3] as never)).toThrow(/four uint32/);
  });
});
