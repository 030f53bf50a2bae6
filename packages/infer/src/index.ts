// @lmkit/infer public API: generation with a KV cache, sampling, quantization, evaluation, and an OpenAI-compatible server.

// Errors
export { InferError } from './errors.js';

// Generation
export { resolveGenerationConfig, type GenerationConfig, type ResolvedGenerationConfig } from './config.js';
export {
  generate, generateText, generateTokens, fitPrompt,
  type CausalLM, type TextTokenizer, type GenerationChunk, type GenerationStats,
} from './generate.js';
export {
  generateBatch, generateBatchText, generateBatchTokens,
  type BatchCausalLM, type BatchChunk, type BatchTokenStep, type BatchTokenOptions, type BatchOptions, type BatchJoiner,
} from './generate-batch.js';
export { TextStream, type TokenStep } from './text-stream.js';

// Sampling: composable logits processors
export { applyProcessors, softmaxRow, type LogitsProcessor, type ProcessorContext } from './sampling/processor.js';
export { temperatureProcessor } from './sampling/temperature.js';
export { topKProcessor } from './sampling/top-k.js';
export { topPProcessor } from './sampling/top-p.js';
export { minPProcessor } from './sampling/min-p.js';
export { repetitionPenaltyProcessor } from './sampling/repetition-penalty.js';
export { processorsFor, chooseToken, argmax, type UniformSource } from './sampling/sampler.js';

// Quantization (q8_0 / q4_0, ggml block layouts)
export { quantize, dequantize, dequantizeRow, quantizedBytes, QK, type QuantFormat, type QuantizedMatrix } from './quant/formats.js';
export { quantizedMatmul, quantizedMatmulJs, type QuantKernel } from './quant/matmul.js';
export { quantKernelInfo, setQuantThreads } from './quant/wasm-kernels.js';

// Calibrated quantization (GPTQ into q8_0 / q4_0 blocks)
export { gptqQuantize, type GptqOptions, type GptqResult, type GptqLayerReport } from './quant/gptq.js';
export { gptqQuantizeMatrix, type GptqMatrixOptions, type GptqMatrixResult } from './quant/gptq-matrix.js';

// Evaluation
export { evaluate, type SequenceScorer, type EvalOptions, type EvalResult } from './eval.js';

// Server
export { serve, defaultStaticDir, type ServeOptions, type ServedModel, type RunningServer } from './server/server.js';
export { plainChatTemplate, type ChatMessage } from './server/chat-template.js';

// Models from @lmkit/model
export { fromDecoderLM, type ModelRunner, type RunnerOptions } from './model-adapter.js';
export { openModelDir, openModelTokenizer, textTokenizer, endOfTextId, type OpenedModel, type TokenizerChoice } from './load.js';
export { saveGgufModel, loadGgufModel, type LoadedGgufModel, type GgufWeightFormat } from './quant/gguf-model.js';
export { parseGguf, readGguf, serializeGguf, writeGguf, GGML_TYPE, GGUF_TYPE, type GgufFile, type GgufTensor, type GgufValue } from './quant/gguf.js';
