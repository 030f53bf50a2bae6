// @lmkit/tokenizer: OpenAI encodings through tiktoken, byte-level BPE training, and tiktoken/HF/minbpe formats.

// Tokenizers
export { Tokenizer, LONG_PIECE_BYTES, type EncodeOptions, type TokenizerSpec } from './tokenizer.js';
export { getEncoding, freeEncodings, ENCODING_NAMES, OPENAI_TIKTOKEN_SHA256, type EncodingName } from './encodings.js';
export { type SpecialTokenOptions } from './special-tokens.js';
export { StreamingDecoder } from './streaming-decoder.js';

// Split patterns
export { GPT4_SPLIT_PATTERN, GPT2_SPLIT_PATTERN, translatePattern, compilePattern } from './pattern.js';

// Errors
export { TokenizerError, type TokenizerErrorCode } from './errors.js';

// Training
export { trainBpe, type TrainBpeOptions, type TrainProgress, type TrainStats, type TrainResult } from './train.js';
export { readCorpusFiles, type ReadCorpusOptions } from './corpus.js';

// Formats
export { saveTokenizer, loadTokenizer, loadTokenizerFile, saveMinbpeModel, type TokenizerManifest } from './formats/tokenizer-files.js';
export { toTiktokenFile, parseTiktokenFile, type TiktokenFileOptions } from './formats/tiktoken-file.js';
export { toHfTokenizerJson, parseHfTokenizerJson } from './formats/hf-tokenizer-json.js';
export { toMinbpeModel, parseMinbpeModel } from './formats/minbpe-model.js';
