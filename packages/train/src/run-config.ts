// The training-run config file (JSON/YAML, snake_case): validated by field before anything runs, then turned into model + objective.
import { createModel, getPreset, type LanguageModel, type ModelConfig } from '@lmkit/model';
import { TrainError } from './errors.js';
import { causalLm } from './objectives/causal-lm.js';
import { maskedLm } from './objectives/masked-lm.js';
import type { Objective } from './objectives/objective.js';
import { spanCorruption } from './objectives/span-corruption.js';
import type { ScheduleKind } from './schedule/lr-schedule.js';
import type { Precision } from './trainer.js';

/** Objectives by config name. */
export type ObjectiveName = 'clm' | 'mlm' | 'span';

/** A training run as a config file describes it; every field optional with the default shown. */
export interface RunConfig {
  /** Model preset (tiny, gpt2-124m, llama-like). Default 'tiny' unless `model` is given. */
  preset?: string;
  /** Explicit model config (Hugging Face fields, `model_type` first); excludes `preset`. */
  model?: ModelConfig;
  /** 'clm' (causal LM), 'mlm' (BERT masked LM, encoder) or 'span' (T5 span corruption, decoder). Default 'clm'. */
  objective?: ObjectiveName;
  /** Optimizer steps. Default 1000. */
  steps?: number;
  /** Sequences per micro-batch. Default 8. */
  batch_size?: number;
  /** Tokens per sequence; at most the model's context. Default min(128, context). */
  seq_len?: number;
  /** Micro-batches per step. Default 1. */
  grad_accum_steps?: number;
  /** Peak learning rate. Default 1e-3. */
  lr?: number;
  /** Final LR as a fraction of lr. Default 0.1. */
  min_lr_frac?: number;
  /** Linear warmup steps. Default min(100, steps / 10). */
  warmup_steps?: number;
  /** 'cosine', 'linear', 'constant' or 'wsd'. Default 'cosine'. */
  schedule?: ScheduleKind;
  /** AdamW decoupled weight decay (≥ 2-D weights only). Default 0.1. */
  weight_decay?: number;
  /** AdamW β1. Default 0.9. */
  beta1?: number;
  /** AdamW β2. Default 0.95. */
  beta2?: number;
  /** Global gradient-norm clip (0 = off). Default 1.0. */
  grad_clip?: number;
  /** 'fp32', 'bf16' or 'fp16'. Default 'fp32'. */
  precision?: Precision;
  /** Seed for init, sampling and corruption. Default 1337. */
  seed?: number;
  /** Evaluate every N steps (0 = only at the end). Default steps / 10. */
  eval_every?: number;
  /** Validation batches per evaluation. Default 8. */
  eval_batches?: number;
  /** Checkpoint every N steps (0 = only at the end and on Ctrl-C). Default 0. */
  checkpoint_every?: number;
  /** Held-out fraction when the data has no val shard. Default 0.05. */
  val_fraction?: number;
  /** Recompute blocks in the backward pass to save activation memory (dense decoders, no dropout). Default false. */
  gradient_checkpointing?: boolean;
}

type FieldCheck = (v: unknown) => string | null;
const int = (min: number): FieldCheck => (v) => (Number.isInteger(v) && (v as number) >= min ? null : `an integer ≥ ${min}`);
const num = (min: number, max = Infinity, openMin = false): FieldCheck => (v) =>
  typeof v === 'number' && Number.isFinite(v) && (openMin ? v > min : v >= min) && v <= max ? null : `a number in ${openMin ? '(' : '['}${min}, ${max === Infinity ? '∞)' : `${max}]`}`;
const oneOf = (...values: string[]): FieldCheck => (v) => (values.includes(v as string) ? null : `one of ${values.join(', ')}`);
const FIELDS: Record<keyof RunConfig, FieldCheck> = {
  preset: (v) => (typeof v === 'string' ? null : 'a preset name'),
  model: (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? null : 'a model config object'),
  objective: oneOf('clm', 'mlm', 'span'),
  steps: int(1),
  batch_size: int(1),
  seq_len: int(2),
  grad_accum_steps: int(1),
  lr: num(0, 10, true),
  min_lr_frac: num(0, 1),
  warmup_steps: int(0),
  schedule: oneOf('cosine', 'linear', 'constant', 'wsd'),
  weight_decay: num(0, 1),
  beta1: num(0, 0.999999),
  beta2: num(0, 0.999999),
  grad_clip: num(0),
  precision: oneOf('fp32', 'bf16', 'fp16'),
  seed: int(0),
  eval_every: int(0),
  eval_batches: int(1),
  checkpoint_every: int(0),
  val_fraction: num(0, 0.5),
  gradient_checkpointing: (v) => (typeof v === 'boolean' ? null : 'true or false'),
};

/**
 * Checks a run config: unknown keys and wrong values are rejected naming the field (and the
 * source file), before any data is read or model built.
 */
export function validateRunConfig(raw: unknown, source = 'config'): RunConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TrainError('TRAIN_BAD_CONFIG', `${source}: expected an object of training settings`, { details: { source } });
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const check = FIELDS[key as keyof RunConfig];
    if (!check) {
      throw new TrainError('TRAIN_BAD_CONFIG', `${source}: unknown field "${key}"`, {
        hint: `known fields: ${Object.keys(FIELDS).join(', ')}`,
        details: { source, field: key },
      });
    }
    const why = check(value);
    if (why) throw new TrainError('TRAIN_BAD_CONFIG', `${source}: ${key} must be ${why}, got ${JSON.stringify(value)}`, { details: { source, field: key } });
    out[key] = value;
  }
  if (out.preset !== undefined && out.model !== undefined) {
    throw new TrainError('TRAIN_BAD_CONFIG', `${source}: give either preset or model, not both`, { details: { source, field: 'preset' } });
  }
  return out as RunConfig;
}

/** Extra ids an objective needs above the data's vocabulary. */
export function extraTokensFor(objective: ObjectiveName): number {
  return objective === 'mlm' ? 1 : objective === 'span' ? 100 : 0;
}

/**
 * The model config for a run: the preset (an encoder of the same size for 'mlm') with its
 * vocabulary grown to fit the data plus the objective's special ids (rounded up to 64), or
 * the explicit `model` config, which must already be large enough.
 */
export function modelConfigFor(run: RunConfig, dataVocabSize: number, source = 'config'): ModelConfig {
  const objective = run.objective ?? 'clm';
  const needed = dataVocabSize + extraTokensFor(objective);
  if (run.model) {
    const cfg = structuredClone(run.model) as ModelConfig & { vocab_size?: number };
    const isEncoder = cfg.model_type === 'lmkit-encoder';
    if ((objective === 'mlm') !== isEncoder) {
      throw new TrainError('TRAIN_BAD_CONFIG', `${source}: objective "${objective}" needs ${objective === 'mlm' ? 'an encoder (model_type "lmkit-encoder")' : 'a decoder (gpt2, llama, mixtral)'}, model.model_type is "${cfg.model_type}"`, { details: { field: 'model.model_type' } });
    }
    if (cfg.vocab_size !== undefined && cfg.vocab_size < needed) {
      throw new TrainError('TRAIN_BAD_CONFIG', `${source}: model.vocab_size ${cfg.vocab_size} is smaller than the ${needed} ids this run needs (data ids up to ${dataVocabSize - 1}${needed > dataVocabSize ? ` + ${needed - dataVocabSize} for ${objective}` : ''})`, {
        hint: `set model.vocab_size to at least ${needed}`,
        details: { field: 'model.vocab_size' },
      });
    }
    return cfg;
  }
  const preset = getPreset(run.preset ?? 'tiny') as ModelConfig & Record<string, unknown>;
  // NOTE: a grown vocabulary keeps its real size (so samplers never emit padding ids) and is padded to 64 for speed.
  const vocab = needed <= Number(preset.vocab_size ?? 0) ? { vocab_size: preset.vocab_size } : { vocab_size: needed, pad_vocab_multiple: 64 };
  if (objective !== 'mlm') return { ...preset, ...vocab } as ModelConfig;
  if (preset.model_type === 'lmkit-encoder') return { ...preset, ...vocab } as ModelConfig;
  const width = Number(preset.n_embd ?? preset.hidden_size);
  return {
    model_type: 'lmkit-encoder',
    ...vocab,
    hidden_size: width,
    num_hidden_layers: Number(preset.n_layer ?? preset.num_hidden_layers),
    num_attention_heads: Number(preset.n_head ?? preset.num_attention_heads),
    intermediate_size: 4 * width,
    max_position_embeddings: Number(preset.n_positions ?? preset.max_position_embeddings),
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  };
}

/** Builds the model for a run; the model package validates the config by field. */
export function createRunModel(run: RunConfig, dataVocabSize: number, source = 'config'): { model: LanguageModel; config: ModelConfig } {
  const config = modelConfigFor(run, dataVocabSize, source);
  const model = createModel(config, { seed: run.seed ?? 1337, source });
  return { model, config };
}

/** The sequence length of a run, checked against the model's context. */
export function seqLenFor(run: RunConfig, context: number, source = 'config'): number {
  const seqLen = run.seq_len ?? Math.min(128, context);
  if (seqLen > context) {
    throw new TrainError('TRAIN_BAD_CONFIG', `${source}: seq_len ${seqLen} exceeds the model's context of ${context} positions`, {
      hint: `lower seq_len (--seq-len) to at most ${context}, or raise the model's n_positions / max_position_embeddings`,
      details: { field: 'seq_len' },
    });
  }
  return seqLen;
}

/** The objective for a run, given the model's real (unpadded) vocabulary and the data's; span sentinels are its top ids. */
export function objectiveFor(name: ObjectiveName, modelVocabSize: number, dataVocabSize: number): Objective {
  if (name === 'mlm') return maskedLm({ maskTokenId: dataVocabSize, dataVocabSize });
  if (name === 'span') return spanCorruption({ vocabSize: modelVocabSize });
  return causalLm();
}
