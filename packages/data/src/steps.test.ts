import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NGramLM } from './filters/ngram-lm.js';
import { calibratePerplexity } from './filters/perplexity.js';
import { QualityClassifier } from './filters/quality-classifier.js';
import { loadXxhash } from './text/hash.js';
import { createDeduplicator, createStep, DEFAULT_CLEAN_STEPS, stepFactories } from './steps.js';
import { isDrop, type Document, type Step } from './types.js';

const ctx = { rank: 0, worldSize: 1, outDir: '.' };

async function allSteps(): Promise<Step[]> {
  const lm = NGramLM.train(['the cat sat on the mat', 'a dog ran in the park'], { minCount: 1 });
  calibratePerplexity(lm, ['the cat ran', 'a dog sat on the mat', 'zebra']);
  const qc = QualityClassifier.train([{ text: 'good clean text', label: 1 }, { text: 'buy now click here', label: 0 }], { bits: 10 });
  const options: Record<string, Record<string, unknown>> = {
    keyword: { keywords: ['casino', 'click here'] },
    perplexity: { model: lm, keep: ['head'] },
    quality_classifier: { model: qc },
    pii: { types: ['email', 'phone', 'ip', 'credit_card', 'iban', 'address', 'name'] },
    c4: { badWordsLanguage: 'en' },
  };
  const steps = Object.keys(stepFactories).map((name) => createStep(name, options[name]));
  for (const s of steps) await s.init?.(ctx);
  return steps;
}

describe('step registry', () => {
  it('every registered step returns a document or a drop with a reason for arbitrary text (no throw)', async () => {
    await loadXxhash();
    const steps = await allSteps();
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.array(fc.constantFrom('The', 'cat', '.', '...', '\n', '\n\n', '#', '-', '•', ' ', '8.8.8.8', 'a@b.co', '{', '+1 415 555 0132', 'Mr.', 'John', 'Smith', 'é', '😀'), { maxLength: 200 }).map((a) => a.join(' ')),
    );
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        for (const step of steps) {
          const r = await step.process({ id: 'p', text: t, meta: {} }, ctx);
          if (isDrop(r)) expect(typeof r.reason).toBe('string');
          else expect(typeof (r as Document).text).toBe('string');
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  });

  it('builds the default clean pipeline and names unknown steps in a typed error', () => {
    expect(DEFAULT_CLEAN_STEPS.map((s) => createStep(s.name, s.options).name)).toEqual(['language', 'gopher_repetition', 'gopher_quality', 'c4', 'fineweb', 'pii']);
    expect(() => createStep('gopher')).toThrow(expect.objectContaining({ code: 'DATA_UNKNOWN_STEP' }));
    expect(() => createStep('keyword', {})).toThrow(expect.objectContaining({ code: 'DATA_BAD_CONFIG' }));
    expect(() => createDeduplicator('fuzzy')).toThrow(expect.objectContaining({ code: 'DATA_UNKNOWN_DEDUP' }));
    expect(createDeduplicator('minhash', { numBuckets: 20 }).name).toBe('minhash');
  });
});
