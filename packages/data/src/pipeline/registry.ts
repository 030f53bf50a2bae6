// The step and de-duplicator registry of the pipeline runner: the built-in tables of steps.ts plus plugin-registered types.
import { DataError } from '../errors.js';
import { dedupFactories, stepFactories } from '../steps.js';
import type { Deduplicator, Step } from '../types.js';
import { specType, type StepSpec } from './config.js';

/** Builds a step from its config options. */
export type StepFactory = (options: Record<string, unknown>) => Step | Promise<Step>;
/** Builds a de-duplicator from its config options. */
export type DeduplicatorFactory = (options: Record<string, unknown>) => Deduplicator | Promise<Deduplicator>;

// NOTE: options come from JSON/YAML configs; each factory validates its own fields.
const steps = new Map<string, StepFactory>(Object.entries(stepFactories as unknown as Record<string, StepFactory>));
const deduplicators = new Map<string, DeduplicatorFactory>(Object.entries(dedupFactories as unknown as Record<string, DeduplicatorFactory>));

/** Registers a step type for configs (a plugin module listed in `plugins` calls this in every worker). */
export function registerStep(type: string, factory: StepFactory): void {
  steps.set(type, factory);
}

/** Registers a de-duplicator type for configs. */
export function registerDeduplicator(type: string, factory: DeduplicatorFactory): void {
  deduplicators.set(type, factory);
}

/** The step and de-duplicator types configs can name (built-in and registered). */
export function registeredTypes(): { steps: string[]; dedup: string[] } {
  return { steps: [...steps.keys()].sort(), dedup: [...deduplicators.keys()].sort() };
}

/** Builds the step a spec names; throws DATA_UNKNOWN_STEP listing the known types. */
export async function stepFromSpec(spec: StepSpec): Promise<Step> {
  const type = specType(spec);
  const factory = steps.get(type);
  if (!factory) {
    throw new DataError('DATA_UNKNOWN_STEP', `unknown step type "${type}"`, {
      hint: `known steps: ${[...steps.keys()].sort().join(', ')}; register your own with registerStep() in a plugin module`,
      details: { type },
    });
  }
  return factory(spec.options ?? {});
}

/** Builds the de-duplicator a spec names; throws DATA_UNKNOWN_DEDUP listing the known types. */
export async function deduplicatorFromSpec(spec: StepSpec): Promise<Deduplicator> {
  const type = specType(spec);
  const factory = deduplicators.get(type);
  if (!factory) {
    throw new DataError('DATA_UNKNOWN_DEDUP', `unknown de-duplicator type "${type}"`, {
      hint: `known de-duplicators: ${[...deduplicators.keys()].sort().join(', ')}; register your own with registerDeduplicator() in a plugin module`,
      details: { type },
    });
  }
  return factory(spec.options ?? {});
}
