// Config validation and resolution: defaults filled, unknown keys and impossible shapes rejected by field name.
import type { ArchSpec, EncoderConfig, GPT2Config, LlamaConfig } from './config.js';
import { ModelError } from './errors.js';

type Check = (value: unknown) => string | null;

const int = (min: number): Check => (v) => (Number.isInteger(v) && (v as number) >= min ? null : `an integer ≥ ${min}`);
const num = (min: number, max: number, openMax = false): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && (openMax ? v < max : v <= max) ? null : `a number in [${min}, ${max}${openMax ? ')' : ']'}`;
const positive: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a positive number');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const oneOf = (...values: unknown[]): Check => (v) => (values.includes(v) ? null : `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
const orNull = (check: Check): Check => (v) => (v === null ? null : check(v) && `${check(v)} or null`);
const dropout = num(0, 1, true);
const positions = oneOf('learned', 'rope', 'alibi');

type Schema = Record<string, [defaultValue: unknown, check: Check]>;

const COMMON: Schema = {
  pad_vocab_multiple: [1, int(1)],
  parallel_block: [false, bool],
  num_local_experts: [0, int(0)],
  num_experts_per_tok: [2, int(1)],
  router_aux_loss_coef: [0.001, num(0, Infinity)],
  initializer_range: [0.02, positive],
};

const GPT2_SCHEMA: Schema = {
  ...COMMON,
  vocab_size: [50257, int(1)],
  n_positions: [1024, int(1)],
  n_embd: [768, int(1)],
  n_layer: [12, int(1)],
  n_head: [12, int(1)],
  n_inner: [null, orNull(int(1))],
  activation_function: ['gelu_new', oneOf('gelu_new', 'gelu_pytorch_tanh', 'gelu')],
  resid_pdrop: [0.1, dropout],
  embd_pdrop: [0.1, dropout],
  attn_pdrop: [0.1, dropout],
  layer_norm_epsilon: [1e-5, positive],
  bias: [true, bool],
  position_embedding: ['learned', positions],
  rope_theta: [10000, positive],
  tie_word_embeddings: [true, bool],
};

const LLAMA_SCHEMA: Schema = {
  ...COMMON,
  vocab_size: [32000, int(1)],
  hidden_size: [4096, int(1)],
  intermediate_size: [11008, int(1)],
  num_hidden_layers: [32, int(1)],
  num_attention_heads: [32, int(1)],
  num_key_value_heads: [null, orNull(int(1))],
  head_dim: [null, orNull(int(1))],
  hidden_act: ['silu', oneOf('silu')],
  max_position_embeddings: [2048, int(1)],
  rms_norm_eps: [1e-6, positive],
  rope_theta: [10000, positive],
  rope_scaling: [null, oneOf(null)],
  attention_bias: [false, bool],
  mlp_bias: [false, bool],
  attention_dropout: [0, dropout],
  hidden_dropout: [0, dropout],
  position_embedding: ['rope', positions],
  tie_word_embeddings: [false, bool],
};

const ENCODER_SCHEMA: Schema = {
  ...COMMON,
  vocab_size: [30522, int(1)],
  hidden_size: [768, int(1)],
  num_hidden_layers: [12, int(1)],
  num_attention_heads: [12, int(1)],
  intermediate_size: [3072, int(1)],
  hidden_act: ['gelu', oneOf('gelu', 'gelu_new', 'silu')],
  max_position_embeddings: [512, int(1)],
  layer_norm_eps: [1e-12, positive],
  hidden_dropout_prob: [0.1, dropout],
  attention_probs_dropout_prob: [0.1, dropout],
  position_embedding: ['learned', positions],
  rope_theta: [10000, positive],
  tie_word_embeddings: [true, bool],
};

const SCHEMAS: Record<string, Schema> = { gpt2: GPT2_SCHEMA, llama: LLAMA_SCHEMA, mixtral: LLAMA_SCHEMA, 'lmkit-encoder': ENCODER_SCHEMA };

/** Model types a config may name. */
export const MODEL_TYPES = Object.keys(SCHEMAS);

/**
 * Keys that Hugging Face writes into config.json without changing the architecture; accepted
 * (and dropped) so that hub checkpoints load. Anything else unknown is an error.
 */
const HF_PASSTHROUGH = new Set([
  'architectures', 'transformers_version', 'torch_dtype', 'use_cache', 'bos_token_id', 'eos_token_id', 'pad_token_id',
  '_name_or_path', 'n_ctx', 'summary_type', 'summary_use_proj', 'summary_activation', 'summary_proj_to_labels',
  'summary_first_dropout', 'task_specific_params', 'reorder_and_upcast_attn', 'pretraining_tp', 'output_router_logits',
  'mask_token_id', 'id2label', 'label2id', 'tokenizer_class', 'prefix',
  'dtype', 'output_past', '_num_labels', 'gradient_checkpointing', 'return_dict', 'output_hidden_states', 'output_attentions',
  'unk_token_id', 'sep_token_id', 'cls_token_id', 'decoder_start_token_id', 'is_decoder', 'n_special', 'predict_special_tokens',
]);

/** Keys HF knows whose only supported value here is the HF default. */
const HF_FIXED: Record<string, unknown> = { scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false, router_jitter_noise: 0, sliding_window: null };

function configError(source: string, field: string, message: string, hint: string): ModelError {
  return new ModelError('MODEL_BAD_CONFIG', `${source}: ${field}: ${message}`, { hint, details: { field } });
}

/** A config with every field filled in (vocab_size is the real vocabulary; the spec's vocabSize is it padded to pad_vocab_multiple). */
export type ResolvedConfig = Required<GPT2Config> | Required<LlamaConfig> | Required<EncoderConfig>;

/**
 * Validates a config object (e.g. parsed config.json) and fills its defaults. Rejects unknown
 * keys, values of the wrong type or range, and impossible shapes, naming the field.
 *
 * @param source What to call the config in messages (a file path, "preset tiny").
 */
export function resolveConfig(input: unknown, source = 'config'): { config: ResolvedConfig; spec: ArchSpec } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw configError(source, '(root)', `expected a JSON object, got ${Array.isArray(input) ? 'an array' : typeof input}`, 'a model config is an object with a "model_type" field');
  }
  const raw = input as Record<string, unknown>;
  const modelType = raw.model_type;
  const schema = typeof modelType === 'string' ? SCHEMAS[modelType] : undefined;
  if (!schema) {
    throw new ModelError('MODEL_UNKNOWN_TYPE', `${source}: model_type: ${JSON.stringify(modelType)} is not a known model type`, {
      hint: `use one of ${MODEL_TYPES.join(', ')}`,
      details: { field: 'model_type' },
    });
  }
  const out: Record<string, unknown> = { model_type: modelType };
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'model_type' || HF_PASSTHROUGH.has(key)) continue;
    if (key in HF_FIXED) {
      if (value !== HF_FIXED[key]) throw configError(source, key, `${JSON.stringify(value)} is not supported`, `only ${JSON.stringify(HF_FIXED[key])} is implemented`);
      continue;
    }
    const entry = schema[key];
    if (!entry) {
      const known = Object.keys(schema).sort().join(', ');
      throw configError(source, key, `unknown field for model_type "${modelType}"`, `known fields: ${known}`);
    }
    const problem = value === undefined ? null : entry[1](value);
    if (problem) throw configError(source, key, `got ${JSON.stringify(value)}, expected ${problem}`, `fix "${key}" or remove it to use the default ${JSON.stringify(entry[0])}`);
    if (value !== undefined) out[key] = value;
  }
  for (const [key, [def]] of Object.entries(schema)) if (!(key in out)) out[key] = def;
  if (modelType === 'mixtral' && !('num_local_experts' in raw)) out.num_local_experts = 8;
  const spec = toSpec(out, source);
  return { config: out as ResolvedConfig, spec };
}

function toSpec(c: Record<string, unknown>, source: string): ArchSpec {
  const n = (k: string): number => c[k] as number;
  const type = c.model_type as string;
  const family: ArchSpec['family'] = type === 'gpt2' ? 'gpt2' : type === 'lmkit-encoder' ? 'encoder' : 'llama';
  const [dKey, hKey, lKey] = family === 'gpt2' ? ['n_embd', 'n_head', 'n_layer'] : ['hidden_size', 'num_attention_heads', 'num_hidden_layers'];
  const dModel = n(dKey);
  const nHead = n(hKey);
  const kvKey = 'num_key_value_heads';
  const nKvHead = family === 'llama' && c[kvKey] !== null ? n(kvKey) : nHead;
  const explicitHeadDim = family === 'llama' && c.head_dim !== null ? n('head_dim') : null;
  if (explicitHeadDim === null && dModel % nHead !== 0) {
    throw configError(source, hKey, `${nHead} heads do not divide ${dKey} ${dModel}`, `choose ${hKey} among the divisors of ${dModel} (e.g. ${divisors(dModel).slice(-4).join(', ')})`);
  }
  if (nHead % nKvHead !== 0) {
    throw configError(source, kvKey, `${nKvHead} key/value heads do not divide ${hKey} ${nHead}`, `choose ${kvKey} among ${divisors(nHead).join(', ')} (1 = multi-query, ${nHead} = multi-head)`);
  }
  const headDim = explicitHeadDim ?? dModel / nHead;
  const pos = c.position_embedding as ArchSpec['positions'];
  if (pos === 'rope' && headDim % 2 !== 0) {
    throw configError(source, hKey, `RoPE needs an even head size, got ${headDim}`, 'change the number of heads or the width');
  }
  const experts = n('num_local_experts');
  if (experts > 0 && n('num_experts_per_tok') > experts) {
    throw configError(source, 'num_experts_per_tok', `${n('num_experts_per_tok')} exceeds num_local_experts ${experts}`, 'route each token to at most num_local_experts experts');
  }
  const multiple = n('pad_vocab_multiple');
  const realVocab = n('vocab_size');
  const vocabSize = Math.ceil(realVocab / multiple) * multiple;
  const act = family === 'gpt2' ? (c.activation_function as string) : (c.hidden_act as string);
  const mlp: ArchSpec['mlp'] = act === 'silu' ? 'swiglu' : act === 'gelu' ? 'gelu' : 'gelu_tanh';
  const gpt2 = family === 'gpt2';
  return {
    family,
    modelType: type,
    vocabSize,
    realVocabSize: realVocab,
    dModel,
    nLayer: n(lKey),
    nHead,
    nKvHead,
    headDim,
    dFf: gpt2 ? ((c.n_inner as number | null) ?? 4 * dModel) : n('intermediate_size'),
    maxPositions: gpt2 ? n('n_positions') : n('max_position_embeddings'),
    norm: family === 'llama' ? 'rmsnorm' : 'layernorm',
    normEps: gpt2 ? n('layer_norm_epsilon') : family === 'llama' ? n('rms_norm_eps') : n('layer_norm_eps'),
    positions: pos,
    ropeTheta: n('rope_theta'),
    mlp,
    attnBias: gpt2 ? (c.bias as boolean) : family === 'llama' ? (c.attention_bias as boolean) : true,
    mlpBias: gpt2 ? (c.bias as boolean) : family === 'llama' ? (c.mlp_bias as boolean) : true,
    normBias: gpt2 ? (c.bias as boolean) : family !== 'llama',
    causal: family !== 'encoder',
    parallelBlock: c.parallel_block as boolean,
    tieEmbeddings: c.tie_word_embeddings as boolean,
    embdDropout: gpt2 ? n('embd_pdrop') : family === 'llama' ? n('hidden_dropout') : n('hidden_dropout_prob'),
    residDropout: gpt2 ? n('resid_pdrop') : family === 'llama' ? n('hidden_dropout') : n('hidden_dropout_prob'),
    attnDropout: gpt2 ? n('attn_pdrop') : family === 'llama' ? n('attention_dropout') : n('attention_probs_dropout_prob'),
    initStd: n('initializer_range'),
    moe: experts > 0 ? { numExperts: experts, topK: n('num_experts_per_tok'), auxLossCoef: n('router_aux_loss_coef') } : null,
  };
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if (n % i === 0) out.push(i);
  return out;
}

