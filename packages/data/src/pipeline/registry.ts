// The step and de-duplicator registry: maps the type names used in configs to factories, built-ins included.
import { DataError } from '../errors.js';
import type { Deduplicator, Step } from '../types.js';
import type { StepSpec } from './config.js';
import { exactDeduplicator } from '../dedup/exact-dedup.js';
import { minhashDeduplicator } from '../dedup/minhash-dedup.js';
import { sentenceDeduplicator } from '../dedup/sentence-dedup.js';
import { c4Filter } from '../filters/c4.js';
import { finewebFilter } from '../filters/fineweb.js';
import { gopherQualityFilter } from '../filters/gopher-quality.js';
import { gopherRepetitionFilter } from '../filters/gopher-repetition.js';
import { htmlFilter } from '../filters/html.js';
import { keywordFilter } from '../filters/keyword.js';
import { languageFilter } from '../filters/language.js';
import { ratioFilter } from '../filters/ratios.js';
import { urlFilter } from '../filters/url.js';
import { piiRedactor } from '../pii/redact.js';

/** Builds a step from its config options. */
export type StepFactory = (options: Record<string, unknown>) => Step | Promise<Step>;
/** Builds a de-duplicator from its config options. */
export type DeduplicatorFactory = (options: Record<string, unknown>) => Deduplicator | Promise<Deduplicator>;

// NOTE: options come from JSON/YAML configs; each factory validates its own fields.
type Options<F> = F extends (options: infer O) => unknown ? O : never;
const as = <F>(o: Record<string, unknown>): Options<F> => o as Options<F>;

/** Built-in steps, keyed by the type names configs use. */
const steps = new Map<string, StepFactory>([
  ['language', (o) => languageFilter(as<typeof languageFilter>(o))],
  ['gopher_repetition', (o) => gopherRepetitionFilter(as<typeof gopherRepetitionFilter>(o))],
  ['gopher_quality', (o) => gopherQualityFilter(as<typeof gopherQualityFilter>(o))],
  ['c4', (o) => c4Filter(as<typeof c4Filter>(o))],
  ['fineweb', (o) => finewebFilter(as<typeof finewebFilter>(o))],
  ['html', (o) => htmlFilter(as<typeof htmlFilter>(o))],
  ['keyword', (o) => keywordFilter(as<typeof keywordFilter>(o))],
  ['ratios', (o) => ratioFilter(as<typeof ratioFilter>(o))],
  ['url', (o) => urlFilter(as<typeof urlFilter>(o))],
  ['pii', (o) => piiRedactor(as<typeof piiRedactor>(o))],
]);

/** Built-in de-duplicators. */
const deduplicators = new Map<string, DeduplicatorFactory>([
  ['exact', (o) => exactDeduplicator(as<typeof exactDeduplicator>(o))],
  ['minhash', (o) => minhashDeduplicator(as<typeof minhashDeduplicator>(o))],
  ['sentence_dedup', (o) => sentenceDeduplicator(as<typeof sentenceDeduplicator>(o))],
]);

/** Registers a step type for configs (a plugin module listed in `plugins` calls this in every worker). */
export function registerStep(type: string, factory: StepFactory): void {
  steps.set(type, factory);
}

/** Registers a de-duplicator type for configs. */
export function registerDeduplicator(type: string, factory: DeduplicatorFactory): void {
  deduplicators.set(type, factory);
}

/** The registered step and de-duplicator type names. */
export function registeredTypes(): { steps: string[]; dedup: string[] } {
  return { steps: [...steps.keys()].sort(), dedup: [...deduplicators.keys()].sort() };
}

/** Builds the step a spec names; throws DATA_UNKNOWN_STEP listing the known types. */
export async function createStep(spec: StepSpec): Promise<Step> {
  const factory = steps.get(spec.type);
  if (!factory) {
    throw new DataError('DATA_UNKNOWN_STEP', `unknown step type "${spec.type}"`, { hint: `known steps: ${[...steps.keys()].sort().join(', ') || '(none)'}; register your own with registerStep() in a plugin module` });
  }
  return factory(spec.options ?? {});
}

/** Builds the de-duplicator a spec names; throws DATA_UNKNOWN_STEP listing the known types. */
export async function createDeduplicator(spec: StepSpec): Promise<Deduplicator> {
  const factory = deduplicators.get(spec.type);
  if (!factory) {
    throw new DataError('DATA_UNKNOWN_STEP', `unknown de-duplicator type "${spec.type}"`, { hint: `known de-duplicators: ${[...deduplicators.keys()].sort().join(', ') || '(none)'}` });
  }
  return factory(spec.options ?? {});
}
