// The default cleaning pipeline of `lmkit data clean`: FineWeb-style filters, PII redaction, then exact and MinHash dedup.
import type { StepSpec } from './config.js';

/**
 * LID (English, fastText ≥ 0.65) → Gopher repetition → Gopher quality → C4 rules without the bad-words
 * list (it flags clean historical text) → FineWeb quality → PII redaction (replace with tags).
 */
export const DEFAULT_CLEAN_STEPS: readonly StepSpec[] = [
  { type: 'language', options: { languages: ['en'], threshold: 0.65 } },
  { type: 'gopher_repetition' },
  { type: 'gopher_quality' },
  { type: 'c4', options: { badWordsLanguage: false } },
  { type: 'fineweb' },
  { type: 'pii', options: { mode: 'replace' } },
];

/** Exact (whole-text hash) then MinHash-LSH (5-grams, 14 × 8) de-duplication. */
export const DEFAULT_CLEAN_DEDUP: readonly StepSpec[] = [{ type: 'exact' }, { type: 'minhash' }];
