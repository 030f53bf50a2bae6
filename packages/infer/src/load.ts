// Opening a model directory for inference: the model (f32 safetensors or quantized GGUF) and its tokenizer.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DecoderLM, loadModel } from '@lmkit/model';
import { ENCODING_NAMES, getEncoding, loadTokenizer, loadTokenizerFile, type EncodingName, type Tokenizer } from '@lmkit/tokenizer';
import { InferError } from './errors.js';
import type { TextTokenizer } from './generate.js';
import { fromDecoderLM, type ModelRunner, type RunnerOptions } from './model-adapter.js';
import { loadGgufModel } from './quant/gguf-model.js';

/** The end-of-text token of a tokenizer, when it has one. */
export function endOfTextId(tokenizer: Tokenizer): number | undefined {
  return tokenizer.specialTokens.get('<|endoftext|>') ?? tokenizer.specialTokens.get('</s>') ?? tokenizer.specialTokens.get('<eos>');
}

/**
 * Adapts an @lmkit/tokenizer Tokenizer for generation. Prompts are encoded as ordinary text, so
 * user text that looks like a special token (`<|endoftext|>`) cannot inject one.
 */
export function textTokenizer(tokenizer: Tokenizer): TextTokenizer & { readonly tokenizer: Tokenizer } {
  const eot = endOfTextId(tokenizer);
  return {
    tokenizer,
    ...(eot === undefined ? {} : { eotId: eot }),
    encode: (text) => tokenizer.encodeOrdinary(text),
    createDecoder: () => tokenizer.createDecoder(),
  };
}

/** Where a model directory's tokenizer comes from. */
export interface TokenizerChoice {
  /** A tokenizer directory or file (lmkit dir, .tiktoken, tokenizer.json, minbpe .model). */
  tokenizer?: string;
  /** An OpenAI encoding name. */
  encoding?: string;
}

/**
 * Finds the tokenizer for a model directory: an explicit choice, else `DIR/lmkit.json`,
 * `DIR/tokenizer/lmkit.json` or `DIR/tokenizer.json`.
 */
export async function openModelTokenizer(dir: string, choice: TokenizerChoice = {}): Promise<Tokenizer> {
  if (choice.tokenizer && choice.encoding) throw new InferError('INFER_BAD_CONFIG', 'give at most one of a tokenizer path and an encoding name');
  if (choice.encoding) {
    if (!(ENCODING_NAMES as readonly string[]).includes(choice.encoding)) throw new InferError('INFER_BAD_CONFIG', `unknown encoding "${choice.encoding}"; known: ${ENCODING_NAMES.join(', ')}`);
    return getEncoding(choice.encoding as EncodingName);
  }
  if (choice.tokenizer) return loadTokenizerFile(choice.tokenizer);
  for (const candidate of [dir, join(dir, 'tokenizer')]) if (existsSync(join(candidate, 'lmkit.json'))) return loadTokenizer(candidate);
  if (existsSync(join(dir, 'tokenizer.json'))) return loadTokenizerFile(join(dir, 'tokenizer.json'));
  throw new InferError('INFER_NO_TOKENIZER', `${dir}: no tokenizer found (looked for lmkit.json, tokenizer/lmkit.json, tokenizer.json)`, {
    hint: 'pass --tokenizer DIR (from `lmkit tokenizer train`) or --encoding NAME',
    details: { dir },
  });
}

/** A model directory opened for inference. */
export interface OpenedModel {
  /** Id to show and serve under (the directory's name). */
  id: string;
  runner: ModelRunner;
  tokenizer: TextTokenizer & { readonly tokenizer: Tokenizer };
}

/**
 * Opens `dir` (config.json + model.safetensors from `saveModel`, `lmkit train` or transformers'
 * `save_pretrained`, decoder models only) with its tokenizer, optionally quantizing on load.
 */
export async function openModelDir(dir: string, options: TokenizerChoice & RunnerOptions = {}): Promise<OpenedModel> {
  const gguf = join(dir, 'model.gguf');
  if (existsSync(gguf)) {
    const loaded = await loadGgufModel(gguf);
    const tokenizer = await openModelTokenizer(dir, options);
    const runner = fromDecoderLM(loaded.model, { ...options, quantization: loaded.format, prequantized: loaded.quantized });
    return { id: basename(resolve(dir)), runner, tokenizer: textTokenizer(tokenizer) };
  }
  if (!existsSync(join(dir, 'config.json'))) {
    throw new InferError('INFER_NO_MODEL', `${dir}: no config.json or model.gguf here`, { hint: 'point --model at a directory written by `lmkit train` (its checkpoint/ folder), `lmkit quantize`, or save_pretrained', details: { dir } });
  }
  const model = await loadModel(dir);
  if (!(model instanceof DecoderLM)) {
    throw new InferError('INFER_NOT_CAUSAL', `${dir}: the model is an encoder (${model.spec.modelType}); generation needs a decoder`, { hint: 'train with --objective clm' });
  }
  const tokenizer = await openModelTokenizer(dir, options);
  const runner = fromDecoderLM(model, options);
  if (runner.vocabSize < tokenizer.vocabSize) {
    throw new InferError('INFER_VOCAB_MISMATCH', `${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model only ${runner.vocabSize}`, { hint: 'use the tokenizer the model was trained with' });
  }
  return { id: basename(resolve(dir)) === 'checkpoint' ? basename(resolve(dir, '..')) : basename(resolve(dir)), runner, tokenizer: textTokenizer(tokenizer) };
}
