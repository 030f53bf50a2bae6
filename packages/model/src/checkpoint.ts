// Saving and loading models as Hugging Face–style directories: model.safetensors (HF names) + config.json.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import type { DecoderLM } from './decoder-lm.js';
import type { EncoderLM } from './encoder-lm.js';
import { ModelError } from './errors.js';
import { fromHuggingFace, hfArchitecture, isIgnoredHfTensor, toHuggingFace, type HostArray } from './hf-names.js';
import { createModel } from './registry.js';
import { entryToFloat32, floatEntry, readSafetensors, writeSafetensors, type SafetensorsEntry, type SafetensorsFile } from './safetensors.js';
import type { ModelOptions } from './transformer.js';
import { padVocabRows, trimVocabRows } from './vocab-rows.js';

/** A model built by this package. */
export type LanguageModel = DecoderLM | EncoderLM;

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Storage dtype of the weights. Default 'F32'. */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Extra `__metadata__` strings (`format: 'pt'` is always set, as transformers expects). */
  metadata?: Record<string, string>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/**
 * Writes `dir/model.safetensors` with Hugging Face tensor names and layouts and `dir/config.json`,
 * both atomically, so that transformers' `AutoModelForCausalLM.from_pretrained(dir)` loads a
 * GPT-2 or LLaMA-shaped model (GPT-2 Conv1D weights transposed, tied head omitted).
 * config.json's `vocab_size` is the real vocabulary and `pad_vocab_multiple` the padding rule; the
 * weights hold the real vocabulary's rows (the padding rows are zeros again after {@link loadModel}).
 */
export async function saveModel(model: LanguageModel, dir: string, options: SaveModelOptions = {}): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  const params = new Map<string, HostArray>();
  for (const [name, p] of model.namedParameters()) params.set(name, { data: p.data() as Float32Array, shape: [...p.shape] });
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, a] of toHuggingFace(model.spec, trimVocabRows(model.spec, params))) entries.set(name, floatEntry(a.data, a.shape, dtype));
  await writeSafetensors(join(dir, 'model.safetensors'), entries, { ...options.metadata, format: 'pt' });
  const config: Record<string, unknown> = {
    ...model.config, // vocab_size: the tokenizer's real size; pad_vocab_multiple: how the model pads it
    model_type: model.spec.family === 'llama' && model.spec.moe ? 'mixtral' : model.config.model_type,
    architectures: [hfArchitecture(model.spec)],
    torch_dtype: TORCH_DTYPE[dtype],
  };
  await atomicWriteFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Loads Hugging Face–named weights into an existing model (GPT-2 names with or without the
 * `transformer.` prefix; `attn.bias` buffers skipped). Vocab-indexed tensors with the real
 * vocabulary's rows are zero-padded to the model's padded size; ones already padded load as they
 * are. Missing/unexpected tensors and shape mismatches throw MODEL_STATE_DICT_MISMATCH naming the tensor.
 */
export function loadHuggingFaceWeights(model: LanguageModel, file: SafetensorsFile, source = 'checkpoint'): void {
  const tensors = new Map<string, HostArray>();
  for (const [name, entry] of file.tensors) {
    if (isIgnoredHfTensor(name)) continue;
    tensors.set(name, { data: entryToFloat32(entry, name), shape: entry.shape });
  }
  const shapes = new Map(model.namedParameters().map(([n, p]) => [n, [...p.shape]]));
  model.loadStateDict(padVocabRows(model.spec, fromHuggingFace(model.spec, tensors, shapes, source)), { source });
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelError('MODEL_BAD_CONFIG', `${path}: cannot read (${(error as Error).message})`, { hint: 'a model directory holds config.json and model.safetensors', cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelError('MODEL_BAD_CONFIG', `${path}: not valid JSON (${(error as Error).message})`, { hint: 'fix the JSON syntax', cause: error });
  }
}

/** Reads `model.safetensors`, or every shard listed in `model.safetensors.index.json`. */
async function readWeights(dir: string): Promise<SafetensorsFile> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const index = await readFile(indexPath, 'utf8').then((t) => JSON.parse(t) as { weight_map?: Record<string, string> }, () => null);
  if (!index) return readSafetensors(join(dir, 'model.safetensors'));
  const shards = [...new Set(Object.values(index.weight_map ?? {}))];
  const merged: SafetensorsFile = { tensors: new Map(), metadata: {} };
  for (const shard of shards) {
    const file = await readSafetensors(join(dir, shard));
    for (const [name, entry] of file.tensors) merged.tensors.set(name, entry);
  }
  return merged;
}

/**
 * Loads a model directory written by {@link saveModel} or by transformers' `save_pretrained`
 * (GPT-2, LLaMA, Mixtral shapes): validates config.json, builds the model, loads the weights.
 */
export async function loadModel(dir: string, options: Omit<ModelOptions, 'skipInit' | 'source'> = {}): Promise<LanguageModel> {
  const configPath = join(dir, 'config.json');
  const config = await readJson(configPath);
  const model = createModel(config as never, { ...options, skipInit: true, source: configPath });
  loadHuggingFaceWeights(model, await readWeights(dir), join(dir, 'model.safetensors'));
  return model;
}
