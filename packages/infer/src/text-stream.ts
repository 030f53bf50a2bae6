// TextStream: turns one sequence's token steps into text chunks — UTF-8 safe, stop strings cut and never emitted.
import type { ResolvedGenerationConfig } from './config.js';
import type { GenerationChunk, TextTokenizer } from './generate.js';

/** One step of a token loop: a new token, and on the last step why generation ended. */
export interface TokenStep {
  /** The token produced at this step (absent when the loop ends without one). */
  tokenId?: number;
  /** Set on the last step. */
  finishReason?: 'stop' | 'length';
}

/**
 * The text side of one generated sequence. Feed it every token step; each call returns the chunk to
 * emit. A chunk with `finishReason` is the last one: the stream ended (an eos id, the length limit,
 * or a stop string, which is cut off with everything after it).
 */
export class TextStream {
  private readonly decoder: { push(ids: ArrayLike<number> | number): string; flush(): string };
  private readonly stops: readonly string[];
  private readonly eos: readonly number[];
  private readonly maxStop: number;
  private pending = ''; // decoded text not yet emitted: it could still become the start of a stop string
  private ended = false;

  constructor(tokenizer: TextTokenizer, config: ResolvedGenerationConfig) {
    this.decoder = tokenizer.createDecoder();
    this.stops = config.stop;
    this.eos = config.eos_token_id;
    this.maxStop = config.stop.reduce((m, s) => Math.max(m, s.length), 0);
  }

  /** True once a chunk with `finishReason` was returned. */
  get done(): boolean {
    return this.ended;
  }

  /** Feeds one token step and returns the chunk it completes (text may be '' while held back). */
  push(step: TokenStep): GenerationChunk {
    if (step.tokenId !== undefined && !this.eos.includes(step.tokenId)) this.pending += this.decoder.push(step.tokenId);
    if (step.finishReason !== undefined) this.pending += this.decoder.flush();
    const stopAt = firstStop(this.pending, this.stops);
    if (stopAt >= 0) {
      this.ended = true;
      return { text: this.pending.slice(0, stopAt), finishReason: 'stop' };
    }
    if (step.finishReason !== undefined) {
      this.ended = true;
      return { text: this.pending, finishReason: step.finishReason, ...(step.tokenId === undefined ? {} : { tokenId: step.tokenId }) };
    }
    // Emit all but the tail that could still begin a stop string.
    const keep = this.maxStop > 0 ? heldTail(this.pending, this.stops) : 0;
    const out = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { text: out, tokenId: step.tokenId as number };
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
