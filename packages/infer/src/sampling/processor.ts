// LogitsProcessor: a small function-object that rewrites a row of logits; processors compose in order.

/** What a processor sees besides the logits: the ids so far (prompt + generated). */
export interface ProcessorContext {
  /** Prompt and generated token ids of this sequence, in order. */
  ids: ArrayLike<number>;
}

/** Rewrites one row of logits in place (set a logit to -Infinity to forbid a token). */
export interface LogitsProcessor {
  /** Name for debugging and tests. */
  readonly name: string;
  /** Modifies `logits` (length = vocab size) in place. */
  process(logits: Float32Array, ctx: ProcessorContext): void;
}

/** Applies processors in order. */
export function applyProcessors(processors: readonly LogitsProcessor[], logits: Float32Array, ctx: ProcessorContext): void {
  for (const p of processors) p.process(logits, ctx);
}

/** Softmax of a row into `out` (allocated if absent); -Infinity logits get probability 0. */
export function softmaxRow(logits: Float32Array, out = new Float32Array(logits.length)): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp(logits[i] - max);
    out[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < out.length; i++) out[i] *= inv;
  return out;
}
