// Registries of every step and deduplicator by stable name, so JSON/YAML configs can name them with options.
import { DataError } from './errors.js';
import type { Deduplicator, Step } from './types.js';
import { c4Filter, type C4Options } from './filters/c4.js';
import { finewebFilter, type FineWebOptions } from './filters/fineweb.js';
import { gopherQualityFilter, type GopherQualityOptions } from './filters/gopher-quality.js';
import { gopherRepetitionFilter, type GopherRepetitionOptions } from './filters/gopher-repetition.js';
import { htmlFilter, type HtmlOptions } from './filters/html.js';
import { keywordFilter, type KeywordOptions } from './filters/keyword.js';
import { languageFilter, type LanguageOptions } from './filters/language.js';
import { perplexityFilter, type PerplexityOptions } from './filters/perplexity.js';
import { qualityClassifierFilter, type QualityClassifierOptions } from './filters/quality-classifier.js';
import { ratioFilter, type RatioOptions } from './filters/ratios.js';
import { urlFilter, type UrlOptions } from './filters/url.js';
import { piiRedactor, type PiiOptions } from './pii/redact.js';
import { exactDeduplicator, type ExactDedupOptions } from './dedup/exact-dedup.js';
import { minhashDeduplicator, type MinHashDedupOptions } from './dedup/minhash-dedup.js';
import { sentenceDeduplicator, type SentenceDedupOptions } from './dedup/sentence-dedup.js';

/** Options object of each registered step, by name. */
export interface StepOptionsByName {
  language: LanguageOptions;
  gopher_repetition: GopherRepetitionOptions;
  gopher_quality: GopherQualityOptions;
  c4: C4Options;
  fineweb: FineWebOptions;
  ratios: RatioOptions;
  keyword: KeywordOptions;
  html: HtmlOptions;
  url: UrlOptions;
  pii: PiiOptions;
  perplexity: PerplexityOptions;
  quality_classifier: QualityClassifierOptions;
}

/** Every per-document step by its stable config name. */
export const stepFactories: { [K in keyof StepOptionsByName]: (options?: StepOptionsByName[K]) => Step } = {
  language: (o) => languageFilter(o),
  gopher_repetition: (o) => gopherRepetitionFilter(o),
  gopher_quality: (o) => gopherQualityFilter(o),
  c4: (o) => c4Filter(o),
  fineweb: (o) => finewebFilter(o),
  ratios: (o) => ratioFilter(o),
  keyword: (o) => keywordFilter(required(o, 'keyword', 'keywords')),
  html: (o) => htmlFilter(o),
  url: (o) => urlFilter(o),
  pii: (o) => piiRedactor(o),
  perplexity: (o) => perplexityFilter(required(o, 'perplexity', 'model')),
  quality_classifier: (o) => qualityClassifierFilter(required(o, 'quality_classifier', 'model')),
};

/** Options object of each registered deduplicator, by name. */
export interface DedupOptionsByName {
  exact: ExactDedupOptions;
  minhash: MinHashDedupOptions;
  sentence_dedup: SentenceDedupOptions;
}

/** Every corpus-wide deduplicator by its stable config name (`sentence_dedup` also has `loadFilter`, see SpanDeduplicator). */
export const dedupFactories: { [K in keyof DedupOptionsByName]: (options?: DedupOptionsByName[K]) => Deduplicator } = {
  exact: (o) => exactDeduplicator(o),
  minhash: (o) => minhashDeduplicator(o),
  sentence_dedup: (o) => sentenceDeduplicator(o),
};

/** The default `clean` pipeline of the CLI contract: LID(en) → Gopher repetition → Gopher quality → C4 (no bad words) → FineWeb → PII. Dedup (exact + MinHash) follows as {@link DEFAULT_CLEAN_DEDUP}. */
export const DEFAULT_CLEAN_STEPS: ReadonlyArray<{ name: keyof StepOptionsByName; options?: Record<string, unknown> }> = [
  { name: 'language' },
  { name: 'gopher_repetition' },
  { name: 'gopher_quality' },
  { name: 'c4', options: { filterNoTerminalPunct: false } }, // as FineWeb runs it: line punctuation is FineWeb's own rule
  { name: 'fineweb' },
  { name: 'pii' },
];

/** The default `clean` de-duplication: exact, then MinHash. */
export const DEFAULT_CLEAN_DEDUP: ReadonlyArray<{ name: keyof DedupOptionsByName; options?: Record<string, unknown> }> = [{ name: 'exact' }, { name: 'minhash' }];

/** Builds a step from a config entry; unknown names throw `DATA_UNKNOWN_STEP` listing the known ones. */
export function createStep(name: string, options?: Record<string, unknown>): Step {
  const factory = (stepFactories as Record<string, (o?: Record<string, unknown>) => Step>)[name];
  if (factory === undefined) {
    throw new DataError('DATA_UNKNOWN_STEP', `unknown step "${name}"`, {
      hint: `use one of: ${Object.keys(stepFactories).join(', ')}`,
      details: { name },
    });
  }
  return factory(options);
}

/** Builds a deduplicator from a config entry; unknown names throw `DATA_UNKNOWN_DEDUP`. */
export function createDeduplicator(name: string, options?: Record<string, unknown>): Deduplicator {
  const factory = (dedupFactories as Record<string, (o?: Record<string, unknown>) => Deduplicator>)[name];
  if (factory === undefined) {
    throw new DataError('DATA_UNKNOWN_DEDUP', `unknown deduplicator "${name}"`, {
      hint: `use one of: ${Object.keys(dedupFactories).join(', ')}`,
      details: { name },
    });
  }
  return factory(options);
}

function required<T>(options: T | undefined, step: string, field: string): T {
  if (options === undefined || (options as Record<string, unknown>)[field] === undefined) {
    throw new DataError('DATA_BAD_CONFIG', `step "${step}" needs the option "${field}"`, {
      hint: `add "${field}" to the step's options in the config`,
      details: { step, field },
    });
  }
  return options;
}
