// @lmkit/model public API: transformer modules, GPT-2/LLaMA decoders, an MLM encoder, MoE, safetensors I/O and presets.

// Errors
export { ModelError, type ModelErrorCode } from './errors.js';

// Configs, presets and sizing
export type { ModelConfig, GPT2Config, LlamaConfig, EncoderConfig, CommonConfigFields, PositionEmbedding, ArchSpec } from './config.js';
export { resolveConfig, MODEL_TYPES, type ResolvedConfig } from './resolve-config.js';
export { PRESETS, getPreset } from './presets/index.js';
export { countParams, flopsPerToken, type CountParamsOptions } from './flops.js';

// Modules
export { Module, ModuleList, type LoadStateDictOptions } from './module.js';
export { Linear, type LinearOptions } from './modules/linear.js';
export { Embedding } from './modules/embedding.js';
export { LayerNorm, type LayerNormOptions } from './modules/layer-norm.js';
export { RMSNorm, type RMSNormOptions } from './modules/rms-norm.js';
export { Dropout } from './modules/dropout.js';
export { Attention, alibiSlopes, type AttentionOptions, type AttentionCallOptions } from './modules/attention.js';
export { KVCache, LayerKVCache, type KVCacheOptions } from './modules/kv-cache.js';
export { PaddingMask } from './modules/padding-mask.js';
export { MLP, type MLPKind, type MLPOptions } from './modules/mlp.js';
export { MoE, type MoEOptions, type MoERouting } from './modules/moe.js';
export { Block, makeNorm } from './modules/block.js';
export { initGpt2 } from './init.js';

// Models
export { Transformer, type ModelOptions, type ForwardOptions } from './transformer.js';
export { DecoderLM, type LossOptions } from './decoder-lm.js';
export { EncoderLM, type EncoderForwardOptions, type EncoderLossOptions } from './encoder-lm.js';
export { MODEL_REGISTRY, createModel, type ModelClass } from './registry.js';

// Checkpoints: safetensors and Hugging Face layouts
export { saveModel, loadModel, loadHuggingFaceWeights, type SaveModelOptions, type LanguageModel } from './checkpoint.js';
export {
  parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, floatEntry, intEntry, entryToFloat32, entryToInt32,
  SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsEntry, type SafetensorsFile,
} from './safetensors.js';
export { toHuggingFace, fromHuggingFace, hfArchitecture, isIgnoredHfTensor, type HostArray } from './hf-names.js';
export { trimVocabRows, padVocabRows } from './vocab-rows.js';
