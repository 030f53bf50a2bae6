// generate(): streams text pieces from a causal LM with a KV cache, seeded sampling and stop strings.
import { createRng } from '@lmkit/tensor';
import { resolveGenerationConfig, type GenerationConfig, type ResolvedGenerationConfig } from './config.js';
import { InferError } from './errors.js';
import { chooseToken, processorsFor } from './sampling/sampler.js';

/**
 * What generation needs from a model: logits for new tokens given the state of earlier ones.
 * `fromDecoderLM` adapts an @lmkit/model DecoderLM; anything else with this shape works too.
 */
export interface CausalLM {
  /** Vocabulary size (length of a logits row). */
  readonly vocabSize: number;
  /** Longest sequence the model accepts (positions). */
  readonly contextLength: number;
  /** A fresh per-sequence state (KV cache); null when the model keeps none. */
  newCache(): unknown;
  /**
   * Feeds `ids` (the tokens not yet seen by `cache`, or the whole sequence when `cache` is null) and
   * returns the logits of the LAST position (length vocabSize). With a cache, it is extended in place.
   */
  nextLogits(ids: Int32Array, cache: unknown): Float32Array;
}

/** What generation needs from a tokenizer (an @lmkit/tokenizer Tokenizer fits). */
export interface TextTokenizer {
  /** Text → ids. */
  encode(text: string): ArrayLike<number>;
  /** A decoder that holds back incomplete UTF-8 sequences across tokens. */
  createDecoder(): { push(ids: ArrayLike<number> | number): string; flush(): string };
  /** The end-of-text id, when the tokenizer has one. */
  readonly eotId?: number;
}

/** One step of a generation stream. */
export interface GenerationChunk {
  /** New text since the previous chunk (may be '' while a multi-byte character or a possible stop string is held back). */
  text: string;
  /** The token id produced at this step (absent on the final flush chunk). */
  tokenId?: number;
  /** Set on the last chunk: why generation ended. */
  finishReason?: 'stop' | 'length';
}

/** Statistics of a finished generation, filled in by {@link generateTokens}. */
export interface GenerationStats {
  promptTokens: number;
  completionTokens: number;
  /** True when the prompt was cut to fit the context. */
  truncated: boolean;
}

/** Prepares prompt ids: truncates (keeping the end) or rejects a prompt longer than the context allows. */
export function fitPrompt(ids: ArrayLike<number>, contextLength: number, config: ResolvedGenerationConfig): { ids: Int32Array; truncated: boolean } {
  const room = Math.max(1, contextLength - 1);
  if (ids.length === 0) throw new InferError('INFER_EMPTY_PROMPT', 'the prompt encodes to zero tokens', { hint: 'give a non-empty prompt' });
  if (ids.length <= room) return { ids: Int32Array.from(ids), truncated: false };
  if (config.truncation === 'error') {
    throw new InferError('INFER_PROMPT_TOO_LONG', `the prompt has ${ids.length} tokens but the context holds ${contextLength}`, {
      hint: 'shorten the prompt or set truncation: "truncate_left"',
      details: { promptTokens: ids.length, contextLength },
    });
  }
  return { ids: Int32Array.from(Array.prototype.slice.call(ids, ids.length - room)), truncated: true };
}

/**
 * Generates from a prompt, yielding text pieces as they complete (UTF-8 safe, stop strings never
 * emitted). The last chunk carries `finishReason`. `signal` aborts between tokens.
 *
 * @example
 * for await (const chunk of generate(model, tokenizer, 'Once upon a time', { max_new_tokens: 50, seed: 1 }))
 *   process.stdout.write(chunk.text);
 */
export async function* generate(
  model: CausalLM,
  tokenizer: TextTokenizer,
  prompt: string,
  config: GenerationConfig = {},
  options: { signal?: AbortSignal; stats?: GenerationStats } = {},
): AsyncGenerator<GenerationChunk> {
  const resolved = resolveGenerationConfig(config, tokenizer.eotId === undefined ? {} : { eosTokenId: tokenizer.eotId });
  const { ids: promptIds, truncated } = fitPrompt(tokenizer.encode(prompt), model.contextLength, resolved);
  const stats = options.stats ?? { promptTokens: 0, completionTokens: 0, truncated: false };
  stats.promptTokens = promptIds.length;
  stats.truncated = truncated;
  const decoder = tokenizer.createDecoder();
  const maxStop = resolved.stop.reduce((m, s) => Math.max(m, s.length), 0);
  let pending = ''; // decoded text not yet emitted: it could still become the start of a stop string
  for await (const step of generateTokens(model, promptIds, resolved, options.signal)) {
    if (step.tokenId !== undefined) stats.completionTokens++;
    if (step.tokenId !== undefined && !resolved.eos_token_id.includes(step.tokenId)) pending += decoder.push(step.tokenId);
    if (step.finishReason !== undefined) pending += decoder.flush();
    const stopAt = firstStop(pending, resolved.stop);
    if (stopAt >= 0) {
      yield { text: pending.slice(0, stopAt), finishReason: 'stop' };
      return;
    }
    if (step.finishReason !== undefined) {
      yield { text: pending, finishReason: step.finishReason, ...(step.tokenId === undefined ? {} : { tokenId: step.tokenId }) };
      return;
    }
    // Emit all but the tail that could still begin a stop string.
    const keep = maxStop > 0 ? heldTail(pending, resolved.stop) : 0;
    const out = pending.slice(0, pending.length - keep);
    pending = pending.slice(pending.length - keep);
    yield { text: out, tokenId: step.tokenId as number };
  }
}

function firstStop(text: string, stops: readonly string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
function heldTail(text: string, stops: readonly string[]): number {
  let keep = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, text.length); n > keep; n--) {
      if (text.endsWith(s.slice(0, n))) {
        keep = n;
        break;
      }
    }
  }
  return keep;
}

/**
 * The token loop: yields each new token id; the last step carries `finishReason` ('stop' when an
 * eos id was produced, 'length' at max_new_tokens or at the context limit).
 */
export async function* generateTokens(
  model: CausalLM,
  promptIds: Int32Array,
  config: ResolvedGenerationConfig,
  signal?: AbortSignal,
): AsyncGenerator<{ tokenId?: number; finishReason?: 'stop' | 'length' }> {
  const rng = createRng(config.seed);
  const processors = processorsFor(config);
  const ids: number[] = Array.from(promptIds);
  const cache = config.use_cache ? model.newCache() : null;
  let feed = promptIds;
  if (config.max_new_tokens === 0) {
    yield { finishReason: 'length' };
    return;
  }
  for (let step = 0; step < config.max_new_tokens; step++) {
    if (signal?.aborted) throw new InferError('INFER_ABORTED', 'generation was aborted', { cause: signal.reason });
    const logits = model.nextLogits(cache === null ? Int32Array.from(ids.slice(-model.contextLength)) : feed, cache);
    const token = chooseToken(Float32Array.from(logits), ids, config, rng, processors);
    ids.push(token);
    const isEos = config.eos_token_id.includes(token);
    const atLimit = step === config.max_new_tokens - 1 || (cache !== null && ids.length >= model.contextLength);
    if (isEos) {
      yield { tokenId: token, finishReason: 'stop' };
      return;
    }
    if (atLimit) {
      yield { tokenId: token, finishReason: 'length' };
      return;
    }
    yield { tokenId: token };
    feed = Int32Array.of(token);
    // NOTE: yield to the event loop between tokens so servers stay responsive and aborts land.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Generates the whole completion and returns it as one string (plus stats). */
export async function generateText(
  model: CausalLM,
  tokenizer: TextTokenizer,
  prompt: string,
  config: GenerationConfig = {},
): Promise<{ text: string; finishReason: 'stop' | 'length'; stats: GenerationStats }> {
  const stats: GenerationStats = { promptTokens: 0, completionTokens: 0, truncated: false };
  let text = '';
  let finishReason: 'stop' | 'length' = 'length';
  for await (const chunk of generate(model, tokenizer, prompt, config, { stats })) {
    text += chunk.text;
    if (chunk.finishReason) finishReason = chunk.finishReason;
  }
  return { text, finishReason, stats };
}
