// A plugin module for the pipeline tests: registers small custom steps in every worker that imports it.
import { drop, registerStep, type Document } from '../index.js';

registerStep('test_min_words', (options) => {
  const min = (options.min as number | undefined) ?? 5;
  return {
    name: 'test_min_words',
    process: (doc: Document) => {
      const words = doc.text.split(/\s+/).filter(Boolean).length;
      return words < min ? drop('too_few_words', words) : doc;
    },
  };
});

registerStep('test_tag', () => ({
  name: 'test_tag',
  process: (doc: Document) => ({ ...doc, meta: { ...doc.meta, tagged: true } }),
}));

// Slows each document down so that a test can kill the run in the middle of a file.
registerStep('test_slow', (options) => {
  const ms = (options.ms as number | undefined) ?? 1;
  return {
    name: 'test_slow',
    process: async (doc: Document) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return doc;
    },
  };
});
