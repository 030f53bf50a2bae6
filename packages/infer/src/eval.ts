// Perplexity and bits per byte of a causal LM on a stream of token ids (e.g. a held-out `.bin` shard).
import { createProgress, type ProgressMode } from '@lmkit/core';
import { InferError } from './errors.js';

/** What evaluation needs: the logits at every position of a window. */
export interface SequenceScorer {
  /** Longest window the model accepts. */
  readonly contextLength: number;
  /** Vocabulary size. */
  readonly vocabSize: number;
  /** Logits for every position of `ids`: row-major (ids.length, vocabSize). */
  logitsAll(ids: Int32Array): Float32Array;
}

/** Options of {@link evaluate}. */
export interface EvalOptions {
  /** Tokens per window (≤ contextLength). Default contextLength. */
  windowSize?: number;
  /** Stop after this many predicted tokens. Default: all. */
  maxTokens?: number;
  /** Bytes each token stands for (tokenizer's decodeBytes length); enables bits per byte. */
  tokenBytes?: (id: number) => number;
  /** Progress display. Default 'auto'. */
  progress?: ProgressMode;
}

/** Result of {@link evaluate}. */
export interface EvalResult {
  /** Tokens predicted (scored). */
  tokens: number;
  /** Mean negative log-likelihood per token, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** loss / ln 2. */
  bitsPerToken: number;
  /** Total bits / total bytes of the predicted tokens; NaN without `tokenBytes`. */
  bitsPerByte: number;
  /** Bytes of the predicted tokens (0 without `tokenBytes`). */
  bytes: number;
}

/**
 * Scores `tokens` in non-overlapping windows: each window of W+1 tokens predicts its last W from
 * the ones before (as nanoGPT's eval does), accumulating the exact log-softmax NLL in float64.
 */
export function evaluate(model: SequenceScorer, tokens: ArrayLike<number>, options: EvalOptions = {}): EvalResult {
  const window = Math.min(options.windowSize ?? model.contextLength, model.contextLength);
  if (!(window >= 1)) throw new InferError('INFER_BAD_CONFIG', `eval: windowSize must be ≥ 1, got ${window}`);
  if (tokens.length < 2) throw new InferError('INFER_EMPTY_DATA', `eval: need at least 2 tokens, got ${tokens.length}`, { hint: 'give a larger held-out shard' });
  const limit = Math.min(options.maxTokens ?? Infinity, tokens.length - 1);
  const V = model.vocabSize;
  const progress = createProgress({ label: 'eval', total: limit, unit: 'tok', mode: options.progress ?? 'auto' });
  let nll = 0;
  let count = 0;
  let bytes = 0;
  for (let start = 0; count < limit; start += window) {
    const n = Math.min(window, limit - count);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = tokens[start + i];
    const logits = model.logitsAll(ids);
    for (let t = 0; t < n; t++) {
      const target = tokens[start + t + 1];
      if (target < 0 || target >= V) throw new InferError('INFER_BAD_TOKEN', `eval: token ${target} at position ${start + t + 1} is outside the vocabulary (${V})`, { hint: 'the shard was made with another tokenizer' });
      const row = t * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (logits[row + v] > max) max = logits[row + v];
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[row + v] - max);
      nll += Math.log(sum) + max - logits[row + target];
      if (options.tokenBytes) bytes += options.tokenBytes(target);
    }
    count += n;
    progress.tick(n);
  }
  progress.stop();
  const loss = nll / count;
  return {
    tokens: count,
    loss,
    perplexity: Math.exp(loss),
    bitsPerToken: loss / Math.LN2,
    bitsPerByte: options.tokenBytes ? nll / Math.LN2 / bytes : NaN,
    bytes,
  };
}
