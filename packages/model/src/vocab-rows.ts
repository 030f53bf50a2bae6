// Vocabulary padding at the checkpoint boundary: files hold the tokenizer's real vocab rows, the model the padded ones.
import type { ArchSpec } from './config.js';
import type { HostArray } from './hf-names.js';

/** lmkit parameters with one row (or element) per vocabulary id: the embedding, an untied head, the MLM head's bias. */
const VOCAB_PARAMS = ['embed.weight', 'head.weight', 'mlmHead.bias'] as const;

function withRows(a: HostArray, rows: number): HostArray {
  const width = a.shape.length > 1 ? a.data.length / a.shape[0]! : 1;
  const data = new Float32Array(rows * width);
  data.set(a.data.subarray(0, Math.min(rows, a.shape[0]!) * width));
  return { data, shape: [rows, ...a.shape.slice(1)] };
}

// The vocab-indexed parameters that have `from` rows, resized to `to` rows (cut, or padded with zeros).
function resizeVocab(params: Map<string, HostArray>, from: number, to: number): Map<string, HostArray> {
  if (from === to) return params;
  const out = new Map(params);
  for (const name of VOCAB_PARAMS) {
    const a = params.get(name);
    if (a !== undefined && a.shape[0] === from) out.set(name, withRows(a, to));
  }
  return out;
}

/**
 * Cuts the vocabulary rows added by `pad_vocab_multiple` off the vocab-indexed parameters, so a
 * saved checkpoint agrees with config.json's `vocab_size` (the real vocabulary, as Hugging Face
 * tools expect: transformers builds its embedding from `vocab_size`). NOTE: the padding rows are
 * never an input or a target; their trained values are dropped and come back as zeros on load.
 */
export function trimVocabRows(spec: ArchSpec, params: Map<string, HostArray>): Map<string, HostArray> {
  return resizeVocab(params, spec.vocabSize, spec.realVocabSize);
}

/**
 * Pads vocab-indexed parameters that hold exactly the real vocabulary (checkpoints written by
 * {@link trimVocabRows}) with zero rows up to the model's padded size. Tensors that already have the
 * padded rows (checkpoints from before the real size was saved) pass through unchanged.
 */
export function padVocabRows(spec: ArchSpec, params: Map<string, HostArray>): Map<string, HostArray> {
  return resizeVocab(params, spec.realVocabSize, spec.vocabSize);
}
