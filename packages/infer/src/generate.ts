// generate(): streams text pieces from a causal LM with a KV cache, seeded sampling and stop strings.
import { createRng } from '@lmkit/tensor';
import { resolveGenerationConfig, type GenerationConfig, type ResolvedGenerationConfig } from './config.js';
import { InferError } from './errors.js';
import { chooseToken, processorsFor } from './sampling/sampler.js';
import { TextStream } from './text-stream.js';

/**
 * What generation needs from a model: logits for new tokens given the state of earlier ones.
 * `fromDecoderLM` adapts an @lmkit/model DecoderLM; anything else with this shape works too.
 */
export interface CausalLM {
  /** Vocabulary size (length of a logits row). */
  readonly vocabSize: number;
  /** Longest sequence the model accepts (positions). */
  readonly contextLength: number;
  /** A fresh per-sequence state (KV cache) with room for `capacity` positions (a hint); null when the model keeps none. */
  newCache(capacity?: number): unknown;
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
  const text = new TextStream(tokenizer, resolved);
  for await (const step of generateTokens(model, promptIds, resolved, options.signal)) {
    if (step.tokenId !== undefined) stats.completionTokens++;
    const chunk = text.push(step);
    yield chunk;
    if (text.done) return;
  }
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
  const cache = config.use_cache ? model.newCache(Math.min(model.contextLength, promptIds.length + config.max_new_tokens)) : null;
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
