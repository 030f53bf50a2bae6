import { describe, expect, it } from 'vitest';
import { languageFilter, loadLanguageModel, predictLanguage } from './language.js';
import { run, verdict } from './test-helpers.js';

const EN = 'The government announced on Tuesday that the new bridge across the river will open next spring, after years of delays.';
const DE = 'Die Regierung hat am Dienstag angekündigt, dass die neue Brücke über den Fluss im nächsten Frühjahr eröffnet wird.';

describe('languageFilter (fastText lid.176)', () => {
  it('keeps English, drops German with its code, and records language and score', async () => {
    const f = languageFilter();
    await f.init!({ rank: 0, worldSize: 1, outDir: '.' });
    const r = await run(f, EN);
    expect(r).toMatchObject({ meta: { language: 'en' } });
    expect((r as unknown as { meta: { language_score: number } }).meta.language_score).toBeGreaterThan(0.9);
    expect(await verdict(f, DE)).toBe('language_de');
    expect(await verdict(languageFilter({ languages: ['de'] }), DE)).toBe('keep');
    expect(await verdict(languageFilter({ languages: null }), DE)).toBe('keep');
  });

  it('keeps only scores strictly above the threshold (datatrove: score > threshold)', async () => {
    const ft = await loadLanguageModel();
    const mixed = 'hello bonjour hola ciao guten tag this is mixed';
    const { score } = predictLanguage(ft, mixed);
    const lang = predictLanguage(ft, mixed).language;
    expect(await verdict(languageFilter({ languages: [lang], threshold: score }), mixed)).toBe('language_low_score');
    expect(await verdict(languageFilter({ languages: [lang], threshold: score - 1e-6 }), mixed)).toBe('keep');
  });
});
