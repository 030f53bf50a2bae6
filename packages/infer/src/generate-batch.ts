// Batched generation: many prompts decoded together, one forward per step, each sequence with its own stopping.
import { createRng, type Rng } from '@lmkit/tensor';
import { resolveGenerationConfig, type GenerationConfig, type ResolvedGenerationConfig } from './config.js';
import { InferError } from './errors.js';
import { fitPrompt, type CausalLM, type GenerationChunk, type GenerationStats, type TextTokenizer } from './generate.js';
import { chooseToken, processorsFor } from './sampling/sampler.js';
import type { LogitsProcessor } from './sampling/processor.js';
import { TextStream, type TokenStep } from './text-stream.js';

/**
 * A {@link CausalLM} that also runs a batch of sequences through one forward. `fromDecoderLM` gives one.
 * Sequences are left-padded to a common width; the attention mask says which columns are real.
 */
export interface BatchCausalLM extends CausalLM {
  /** A fresh state (KV cache) for `batch` sequences with room for `capacity` positions (a hint; it grows if needed). */
  newBatchCache(batch: number, capacity: number): unknown;
  /**
   * Feeds `ids` (B·T, row-major: T new tokens of each of the `batch` sequences) and returns the logits
   * of each sequence's last column (B·vocabSize). `attentionMask` (B·S, S = cached + T columns) is 1 for
   * real tokens and 0 for padding; positions count real tokens only. The cache is extended in place.
   */
  nextLogitsBatch(ids: Int32Array, batch: number, attentionMask: Uint8Array, cache: unknown): Float32Array;
  /** Keeps only batch rows `rows` (in that order) of the cache, so finished sequences stop costing compute. Optional. */
  keepRows?(cache: unknown, rows: readonly number[]): void;
  /**
   * Adds the rows of `other` (a fresh sequence's prefilled cache) after the rows of `cache`, right-aligned
   * at column `leftPad` so they end where the batch's cached positions end. Optional: lets sequences join a
   * running batch.
   */
  joinRows?(cache: unknown, other: unknown, leftPad: number): void;
}

/** A sequence that joins a running batch (see {@link BatchTokenOptions.admit}). */
export interface BatchJoiner {
  /** Its prompt ids (at most as many as the batch has cached positions). */
  ids: Int32Array;
  /** Its generation config. */
  config: ResolvedGenerationConfig;
}

/** One sequence's step in a batch: which prompt it belongs to, its new token, and why it ended (last step). */
export interface BatchTokenStep extends TokenStep {
  /** Index of the prompt in the batch. */
  index: number;
}

/** A text chunk of one sequence of a batch. */
export interface BatchChunk extends GenerationChunk {
  /** Index of the prompt in the batch. */
  index: number;
}

/** Options of {@link generateBatchTokens}. */
export interface BatchTokenOptions {
  /** Aborts between steps. Default none. */
  signal?: AbortSignal;
  /** Sequences the caller has ended (e.g. a stop string appeared): they get no further steps. Default none. */
  ended?: ReadonlySet<number>;
  /**
   * Called before each step once the batch has cached positions, with that count and the free rows
   * (`maxRows` minus running ones): the sequences returned (prompts no longer than the count) are
   * prefilled one by one and join the batch, getting the next indexes. Needs the model's `joinRows`.
   * Default none (the batch is the prompts given).
   */
  admit?: (cached: number, free: number) => BatchJoiner[];
  /** Most rows running at once, for `admit`. Default: the number of prompts. */
  maxRows?: number;
}

// Per-sequence sampling state.
interface Sequence {
  config: ResolvedGenerationConfig;
  rng: Rng;
  processors: LogitsProcessor[];
  ids: number[];
  promptLength: number;
  done: boolean;
}

function sequenceOf(ids: Int32Array, config: ResolvedGenerationConfig, index: number): Sequence {
  if (ids.length === 0) throw new InferError('INFER_EMPTY_PROMPT', `prompt ${index} of the batch has zero tokens`, { hint: 'give non-empty prompts', details: { index } });
  return { config, rng: createRng(config.seed), processors: processorsFor(config), ids: Array.from(ids), promptLength: ids.length, done: false };
}

// Samples sequence `index`'s next token from its logits row; `length` is its length in columns after the token.
function take(s: Sequence, index: number, logits: Float32Array, length: number, contextLength: number): BatchTokenStep {
  const token = chooseToken(logits, s.ids, s.config, s.rng, s.processors);
  s.ids.push(token);
  const generated = s.ids.length - s.promptLength;
  const finishReason = s.config.eos_token_id.includes(token) ? 'stop' : generated >= s.config.max_new_tokens || length >= contextLength ? 'length' : undefined;
  if (finishReason) s.done = true;
  return finishReason ? { index, tokenId: token, finishReason } : { index, tokenId: token };
}

/**
 * The batched token loop. Prompts are left-padded to the longest; each step runs every sequence through
 * ONE forward with a shared KV cache and yields the steps of the sequences still running. Each sequence
 * stops on its own (an eos id, its `max_new_tokens`) and then emits nothing more (its row leaves the batch
 * when the model has `keepRows`); sampling uses a
 * per-sequence RNG seeded with its config's seed, so a sequence's output does not depend on its batch.
 * The batch ends at the context length, counted in columns (the longest prompt plus the steps taken).
 * `use_cache` is ignored: batches always use the cache.
 */
export async function* generateBatchTokens(
  model: BatchCausalLM,
  prompts: readonly Int32Array[],
  configs: readonly ResolvedGenerationConfig[],
  options: BatchTokenOptions = {},
): AsyncGenerator<BatchTokenStep[]> {
  const B = prompts.length;
  if (configs.length !== B) {
    throw new InferError('INFER_BAD_CONFIG', `batch of ${B} prompts got ${configs.length} generation configs`, { hint: 'pass one config, or one per prompt' });
  }
  if (B === 0) return;
  const seqs: Sequence[] = prompts.map((p, i) => sequenceOf(p, configs[i]!, i));
  const first: BatchTokenStep[] = [];
  seqs.forEach((s, i) => {
    if (s.config.max_new_tokens === 0) {
      s.done = true;
      first.push({ index: i, finishReason: 'length' });
    }
  });
  if (first.length > 0) yield first;
  const width = Math.max(...prompts.map((p) => p.length));
  const maxNew = Math.max(...seqs.map((s) => s.config.max_new_tokens));
  const cache = model.newBatchCache(B, Math.min(model.contextLength, width + maxNew));
  // Left-padded prompts (padding id 0, masked out) and the mask over columns, grown by one column per step.
  let feed = new Int32Array(B * width);
  let mask = new Uint8Array(B * width);
  prompts.forEach((p, i) => {
    feed.set(p, i * width + width - p.length);
    mask.fill(1, i * width + width - p.length, (i + 1) * width);
  });
  let columns = width;
  let cached = 0; // positions in the cache (columns − the fed ones)
  let rows = seqs.map((_, i) => i); // the sequence of each batch row
  const V = model.vocabSize;
  const maxRows = options.maxRows ?? B;
  while (seqs.some((s, i) => !s.done && !options.ended?.has(i)) || (options.admit && cached > 0)) {
    if (options.signal?.aborted) throw new InferError('INFER_ABORTED', 'generation was aborted', { cause: options.signal.reason });
    for (const i of rows) if (options.ended?.has(i)) seqs[i]!.done = true;
    // Rows of finished sequences leave the batch (cache, mask and feed) when the model can drop them.
    const live = rows.map((i, row) => [i, row] as const).filter(([i]) => !seqs[i]!.done);
    if (model.keepRows && live.length < rows.length && live.length > 0) {
      model.keepRows(cache, live.map(([, row]) => row));
      const keptMask = new Uint8Array(live.length * columns);
      live.forEach(([, row], r) => keptMask.set(mask.subarray(row * columns, (row + 1) * columns), r * columns));
      mask = keptMask;
      const T = feed.length / rows.length; // the prompt width at prefill, then 1
      const keptFeed = new Int32Array(live.length * T);
      live.forEach(([, row], r) => keptFeed.set(feed.subarray(row * T, (row + 1) * T), r * T));
      feed = keptFeed;
      rows = live.map(([i]) => i);
    }
    const steps: BatchTokenStep[] = [];
    if (options.admit && model.joinRows && cached > 0) {
      for (const joiner of options.admit(cached, Math.max(0, maxRows - rows.filter((i) => !seqs[i]!.done).length))) {
        const index = seqs.length;
        const P = joiner.ids.length;
        if (P > cached) throw new InferError('INFER_BAD_INPUT', `a joining prompt of ${P} tokens is longer than the batch's ${cached} cached positions`, { hint: 'admit only prompts no longer than the count given' });
        const s = sequenceOf(joiner.ids, joiner.config, index);
        seqs.push(s);
        // Prefill alone, take its first token, then join with its positions right-aligned to the batch's.
        const own = model.newBatchCache(1, P + joiner.config.max_new_tokens);
        const step = take(s, index, model.nextLogitsBatch(joiner.ids, 1, new Uint8Array(P).fill(1), own), P + 1, model.contextLength);
        steps.push(step);
        if (s.done) continue;
        model.joinRows(cache, own, cached - P);
        const grown = new Uint8Array((rows.length + 1) * columns);
        grown.set(mask);
        grown.fill(1, rows.length * columns + cached - P);
        mask = grown;
        const fed = new Int32Array(rows.length + 1);
        fed.set(feed);
        fed[rows.length] = step.tokenId!;
        feed = fed;
        rows = [...rows, index];
      }
      if (rows.every((i) => seqs[i]!.done)) {
        if (steps.length > 0) yield steps;
        break;
      }
    }
    const logits = model.nextLogitsBatch(feed, rows.length, mask, cache);
    const next = new Int32Array(rows.length);
    rows.forEach((i, row) => {
      const s = seqs[i]!;
      if (s.done) {
        next[row] = s.ids[s.ids.length - 1]!; // keeps its row busy; its outputs are never read
        return;
      }
      const step = take(s, i, logits.slice(row * V, (row + 1) * V), columns + 1, model.contextLength);
      next[row] = step.tokenId!;
      steps.push(step);
    });
    cached = columns;
    // Every row gains a real column.
    const grown = new Uint8Array(rows.length * (columns + 1));
    rows.forEach((_, row) => {
      grown.set(mask.subarray(row * columns, (row + 1) * columns), row * (columns + 1));
      grown[(row + 1) * (columns + 1) - 1] = 1;
    });
    mask = grown;
    feed = next;
    columns++;
    yield steps;
    // NOTE: yield to the event loop between steps so servers stay responsive and aborts land.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Options of {@link generateBatch}. */
export interface BatchOptions {
  /** Aborts between steps. Default none. */
  signal?: AbortSignal;
  /** Filled in per prompt (same order) as generation goes. Default none. */
  stats?: GenerationStats[];
}

/**
 * Generates from several prompts at once — one forward per step for the whole batch — yielding text
 * chunks tagged with their prompt's index (UTF-8 safe, stop strings never emitted). Each sequence's
 * last chunk carries `finishReason`; finished sequences emit nothing more. `config` is one config per
 * prompt (each sequence samples with its own RNG seeded with its `seed`, so it gives what that prompt
 * gives alone) or one config for all, where sequence i is seeded with `seed + i` (copies of one prompt
 * then give different, reproducible samples).
 *
 * @example
 * const runner = fromDecoderLM(model);
 * for await (const c of generateBatch(runner, tokenizer, ['Once upon', 'The capital of'], { max_new_tokens: 20, seed: 1 }))
 *   console.log(c.index, JSON.stringify(c.text));
 */
export async function* generateBatch(
  model: BatchCausalLM,
  tokenizer: TextTokenizer,
  prompts: readonly string[],
  config: GenerationConfig | readonly GenerationConfig[] = {},
  options: BatchOptions = {},
): AsyncGenerator<BatchChunk> {
  const given = Array.isArray(config) ? (config as readonly GenerationConfig[]) : prompts.map(() => config as GenerationConfig);
  if (given.length !== prompts.length) {
    throw new InferError('INFER_BAD_CONFIG', `batch of ${prompts.length} prompts got ${given.length} generation configs`, { hint: 'pass one config, or one per prompt' });
  }
  const eos = tokenizer.eotId === undefined ? {} : { eosTokenId: tokenizer.eotId };
  // NOTE: one config for all prompts seeds sequence i with seed + i, so copies of a prompt give different
  // samples, each reproducible (and equal to that prompt alone with seed + i); unseeded ones draw their own.
  const resolved = given.map((c, i) => {
    const r = resolveGenerationConfig(c, eos);
    if (!Array.isArray(config) && c.seed !== undefined) r.seed = c.seed + i;
    return r;
  });
  const stats = prompts.map((_, i) => options.stats?.[i] ?? { promptTokens: 0, completionTokens: 0, truncated: false });
  const ids = prompts.map((p, i) => {
    const fit = fitPrompt(tokenizer.encode(p), model.contextLength, resolved[i]!);
    stats[i]!.promptTokens = fit.ids.length;
    stats[i]!.truncated = fit.truncated;
    return fit.ids;
  });
  if (options.stats) stats.forEach((s, i) => (options.stats![i] = s));
  const streams = resolved.map((r) => new TextStream(tokenizer, r));
  const ended = new Set<number>();
  for await (const steps of generateBatchTokens(model, ids, resolved, { ended, ...(options.signal ? { signal: options.signal } : {}) })) {
    for (const step of steps) {
      if (ended.has(step.index)) continue;
      if (step.tokenId !== undefined) stats[step.index]!.completionTokens++;
      const chunk = streams[step.index]!.push(step);
      if (streams[step.index]!.done) ended.add(step.index);
      yield { ...chunk, index: step.index };
    }
  }
}

/** Generates every prompt's whole completion (one batch) and returns them in prompt order. */
export async function generateBatchText(
  model: BatchCausalLM,
  tokenizer: TextTokenizer,
  prompts: readonly string[],
  config: GenerationConfig | readonly GenerationConfig[] = {},
): Promise<Array<{ text: string; finishReason: 'stop' | 'length'; stats: GenerationStats }>> {
  const stats: GenerationStats[] = prompts.map(() => ({ promptTokens: 0, completionTokens: 0, truncated: false }));
  const out = prompts.map((_, i) => ({ text: '', finishReason: 'length' as 'stop' | 'length', stats: stats[i]! }));
  for await (const chunk of generateBatch(model, tokenizer, prompts, config, { stats })) {
    out[chunk.index]!.text += chunk.text;
    if (chunk.finishReason) out[chunk.index]!.finishReason = chunk.finishReason;
  }
  return out;
}
