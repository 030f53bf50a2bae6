// The preset table: name → config, one file per preset.
import type { ModelConfig } from '../config.js';
import { ModelError } from '../errors.js';
import { gpt2_124m } from './gpt2-124m.js';
import { llamaLike } from './llama-like.js';
import { tiny } from './tiny.js';

/** Presets by name. */
export const PRESETS: Readonly<Record<string, ModelConfig>> = { tiny, 'gpt2-124m': gpt2_124m, 'llama-like': llamaLike };

/** Returns a copy of the named preset's config; throws MODEL_BAD_CONFIG naming the choices otherwise. */
export function getPreset(name: string): ModelConfig {
  const preset = PRESETS[name];
  if (!preset) throw new ModelError('MODEL_BAD_CONFIG', `unknown preset "${name}"`, { hint: `use one of ${Object.keys(PRESETS).join(', ')}`, details: { field: 'preset' } });
  return structuredClone(preset);
}
