// The step and de-duplicator registry: maps the type names used in configs to factories.
import { DataError } from '../errors.js';
import type { Deduplicator, Step } from '../types.js';
import type { StepSpec } from './config.js';

/** Builds a step from its config options. */
export type StepFactory = (options: Record<string, unknown>) => Step | Promise<Step>;
/** Builds a de-duplicator from its config options. */
export type DeduplicatorFactory = (options: Record<string, unknown>) => Deduplicator | Promise<Deduplicator>;

const steps = new Map<string, StepFactory>();
const deduplicators = new Map<string, DeduplicatorFactory>();

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
