// @lmkit/model public API: transformer modules, GPT-2/LLaMA decoders, an MLM encoder, MoE, safetensors I/O and presets.

// Errors
export { ModelError, type ModelErrorCode } from './errors.js';

// safetensors
export {
  parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, floatEntry, intEntry, entryToFloat32, entryToInt32,
  SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsEntry, type SafetensorsFile,
} from './safetensors.js';
