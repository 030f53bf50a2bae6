// @lmkit/model public API: transformer modules, GPT-2/LLaMA decoders, an MLM encoder, MoE, safetensors I/O and presets.

// Errors
export { ModelError, type ModelErrorCode } from './errors.js';

// Configs, presets and sizing
export type { ModelConfig, GPT2Config, LlamaConfig, EncoderConfig, CommonConfigFields, PositionEmbedding, ArchSpec } from './config.js';
export { resolveConfig, MODEL_TYPES, type ResolvedConfig } from './resolve-config.js';
export { PRESETS, getPreset } from './presets/index.js';
export { countParams, flopsPerToken, type CountParamsOptions } from './flops.js';

// safetensors and Hugging Face layouts
export {
  parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, floatEntry, intEntry, entryToFloat32, entryToInt32,
  SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsEntry, type SafetensorsFile,
} from './safetensors.js';
export { toHuggingFace, fromHuggingFace, hfArchitecture, type HostArray } from './hf-names.js';
