import { describe, expect, it } from 'vitest';
import { mixSources, type MixSource } from './mix.js';
import type { Document } from './types.js';

function source(name: string, weight: number, n: number, len: (i: number) => number): MixSource {
  return { name, weight, open: () => Array.from({ length: n }, (_, i): Document => ({ id: `${name}${i}`, text: 'x'.repeat(len(i)), meta: {} })) };
}
const count = (t: string): number => t.length;

async function collect(mix: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const d of mix) out.push(d);
  return out;
}

describe('mixSources', () => {
  it('tracks token shares of the weights (docs of different lengths), stops at the budget, reports', async () => {
    const mix = mixSources([source('web', 0.7, 10_000, (i) => 50 + (i % 7) * 30), source('books', 0.3, 10_000, (i) => 400 + (i % 3) * 100)], { tokenBudget: 200_000, countTokens: count, seed: 1 });
    const docs = await collect(mix);
    const r = mix.report;
    expect(r.tokens).toBeGreaterThanOrEqual(200_000);
    expect(r.tokens).toBeLessThan(200_000 + 600);
    expect(r.sources[0].share).toBeCloseTo(0.7, 2);
    expect(r.sources[1].share).toBeCloseTo(0.3, 2);
    expect(docs.every((d) => d.meta.source === (d.id.startsWith('web') ? 'web' : 'books'))).toBe(true);
    console.log(`mix achieved: ${r.sources.map((s) => `${s.name} ${(100 * s.share).toFixed(2)} % (target ${100 * s.targetShare} %)`).join(', ')}`);
  });

  it('is deterministic for a seed', async () => {
    const make = (seed: number) => mixSources([source('a', 1, 100, () => 10), source('b', 1, 100, () => 10)], { tokenBudget: 500, countTokens: count, seed });
    const x = (await collect(make(3))).map((d) => d.id);
    expect((await collect(make(3))).map((d) => d.id)).toEqual(x);
  });

  it('drops an exhausted source, or repeats it as extra epochs', async () => {
    const small = () => [source('big', 0.5, 1000, () => 10), source('small', 0.5, 5, () => 10)];
    const once = mixSources(small(), { tokenBudget: 1000, countTokens: count });
    await collect(once);
    expect(once.report.sources[1]).toMatchObject({ documents: 5, exhausted: true, epochs: 1 });
    const rep = mixSources(small(), { tokenBudget: 1000, countTokens: count, repeat: true });
    await collect(rep);
    expect(rep.report.sources[1].epochs).toBe(10);
    expect(rep.report.sources[1].share).toBeCloseTo(0.5, 2);
  });

  it('rejects bad weights and budgets with typed errors', () => {
    expect(() => mixSources([source('a', 0, 1, () => 1)], { tokenBudget: 1 })).toThrow(expect.objectContaining({ code: 'DATA_MIX_BAD_WEIGHT' }));
    expect(() => mixSources([], { tokenBudget: 1 })).toThrow(expect.objectContaining({ code: 'DATA_MIX_NO_SOURCES' }));
    expect(() => mixSources([source('a', 1, 1, () => 1)], { tokenBudget: 0 })).toThrow(expect.objectContaining({ code: 'DATA_MIX_BAD_BUDGET' }));
  });
});
