// The model_type → class registry (transformers.js style) and a constructor that dispatches on it.
import type { ModelConfig } from './config.js';
import { DecoderLM } from './decoder-lm.js';
import { EncoderLM } from './encoder-lm.js';
import { ModelError } from './errors.js';
import type { ResolvedConfig } from './resolve-config.js';
import type { ModelOptions } from './transformer.js';

/** A language model class built from a config. */
export type ModelClass = typeof DecoderLM | typeof EncoderLM;

/** Which class each `model_type` builds. */
export const MODEL_REGISTRY: Readonly<Record<string, ModelClass>> = {
  gpt2: DecoderLM,
  llama: DecoderLM,
  mixtral: DecoderLM,
  'lmkit-encoder': EncoderLM,
};

/**
 * Builds the model a config describes (validated first; errors name the field).
 *
 * @example
 * const model = createModel(getPreset('llama-like'), { seed: 1 });
 */
export function createModel(config: ModelConfig | ResolvedConfig, options: ModelOptions = {}): DecoderLM | EncoderLM {
  const cls = MODEL_REGISTRY[(config as { model_type?: unknown }).model_type as string];
  if (!cls) {
    throw new ModelError('MODEL_UNKNOWN_TYPE', `${options.source ?? 'config'}: model_type: ${JSON.stringify((config as { model_type?: unknown }).model_type)} is not a known model type`, {
      hint: `use one of ${Object.keys(MODEL_REGISTRY).join(', ')}`, details: { field: 'model_type' },
    });
  }
  return cls === EncoderLM ? new EncoderLM(config as ResolvedConfig, options) : new DecoderLM(config as ResolvedConfig, options);
}
