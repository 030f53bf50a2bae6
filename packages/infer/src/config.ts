// GenerationConfig: the generation knobs with Hugging Face field names and defaults, validated up front.
import { InferError } from './errors.js';

/**
 * How to generate. Field names and defaults follow Hugging Face `GenerationConfig`, except that
 * `max_new_tokens` defaults to 128 and `do_sample` is inferred when left undefined (see below).
 */
export interface GenerationConfig {
  /** Tokens to generate at most. Default 128. */
  max_new_tokens?: number;
  /** Sample (true) or take the argmax (false). Default: true when `temperature`, `top_k`, `top_p` or `min_p` is set, else false (greedy), as in HF pipelines' usual use. */
  do_sample?: boolean;
  /** Divide logits by this before sampling; must be > 0. Default 1.0. */
  temperature?: number;
  /** Keep only the k most likely tokens; 0 disables. Default 50 when sampling (HF's default). */
  top_k?: number;
  /** Keep the smallest set of tokens whose probability mass reaches top_p; 1.0 disables. Default 1.0. */
  top_p?: number;
  /** Drop tokens whose probability is below min_p × the top token's; 0 disables. Default 0 (off). */
  min_p?: number;
  /** CTRL-style penalty (> 1 discourages) on tokens already in prompt or output. Default 1.0 (off). */
  repetition_penalty?: number;
  /** Stop when the generated text contains any of these strings (the stop string is not returned). Default []. */
  stop?: string[];
  /** Token ids that end generation (e.g. `<|endoftext|>`). Default: the tokenizer's end-of-text id if it has one. */
  eos_token_id?: number | number[];
  /** Seed for sampling; same seed + same config → same text. Default: random. */
  seed?: number;
  /** Reuse keys/values of earlier positions (KV cache). Default true. */
  use_cache?: boolean;
  /** What to do with a prompt longer than the context: 'truncate_left' keeps its end, 'error' rejects it. Default 'truncate_left'. */
  truncation?: 'truncate_left' | 'error';
}

/** A GenerationConfig with every field resolved. */
export interface ResolvedGenerationConfig {
  max_new_tokens: number;
  do_sample: boolean;
  temperature: number;
  top_k: number;
  top_p: number;
  min_p: number;
  repetition_penalty: number;
  stop: string[];
  eos_token_id: number[];
  seed: number;
  use_cache: boolean;
  truncation: 'truncate_left' | 'error';
}

const KNOWN = new Set([
  'max_new_tokens', 'do_sample', 'temperature', 'top_k', 'top_p', 'min_p', 'repetition_penalty', 'stop',
  'eos_token_id', 'seed', 'use_cache', 'truncation',
]);

function check(cond: boolean, field: string, message: string): void {
  if (!cond) throw new InferError('INFER_BAD_CONFIG', `generation config: ${field} ${message}`, { details: { field }, hint: `fix "${field}" in the generation config` });
}

/** Validates a config and fills in defaults; unknown keys and out-of-range values throw naming the field. */
export function resolveGenerationConfig(config: GenerationConfig = {}, defaults: { eosTokenId?: number } = {}): ResolvedGenerationConfig {
  for (const key of Object.keys(config)) check(KNOWN.has(key), key, `is not a known field (known: ${[...KNOWN].join(', ')})`);
  const samplingAsked = config.temperature !== undefined || config.top_k !== undefined || config.top_p !== undefined || config.min_p !== undefined;
  const r: ResolvedGenerationConfig = {
    max_new_tokens: config.max_new_tokens ?? 128,
    do_sample: config.do_sample ?? samplingAsked,
    temperature: config.temperature ?? 1.0,
    top_k: config.top_k ?? 50,
    top_p: config.top_p ?? 1.0,
    min_p: config.min_p ?? 0,
    repetition_penalty: config.repetition_penalty ?? 1.0,
    stop: config.stop ?? [],
    eos_token_id: config.eos_token_id === undefined ? (defaults.eosTokenId === undefined ? [] : [defaults.eosTokenId]) : ([] as number[]).concat(config.eos_token_id),
    seed: config.seed ?? Math.floor(Math.random() * 2 ** 32),
    use_cache: config.use_cache ?? true,
    truncation: config.truncation ?? 'truncate_left',
  };
  check(Number.isInteger(r.max_new_tokens) && r.max_new_tokens >= 0, 'max_new_tokens', `must be an integer ≥ 0, got ${r.max_new_tokens}`);
  check(Number.isFinite(r.temperature) && r.temperature > 0, 'temperature', `must be > 0, got ${r.temperature} (use do_sample: false for greedy)`);
  check(Number.isInteger(r.top_k) && r.top_k >= 0, 'top_k', `must be an integer ≥ 0, got ${r.top_k}`);
  check(r.top_p > 0 && r.top_p <= 1, 'top_p', `must be in (0, 1], got ${r.top_p}`);
  check(r.min_p >= 0 && r.min_p < 1, 'min_p', `must be in [0, 1), got ${r.min_p}`);
  check(Number.isFinite(r.repetition_penalty) && r.repetition_penalty > 0, 'repetition_penalty', `must be > 0, got ${r.repetition_penalty}`);
  check(Array.isArray(r.stop) && r.stop.every((s) => typeof s === 'string' && s.length > 0), 'stop', 'must be a list of non-empty strings');
  check(r.eos_token_id.every((id) => Number.isInteger(id) && id >= 0), 'eos_token_id', 'must be non-negative integers');
  check(Number.isFinite(r.seed), 'seed', `must be a number, got ${r.seed}`);
  check(r.truncation === 'truncate_left' || r.truncation === 'error', 'truncation', `must be 'truncate_left' or 'error', got ${String(r.truncation)}`);
  return r;
}
