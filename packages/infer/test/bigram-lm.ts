// A tiny deterministic byte-level bigram LM used as the model in infer's tests (no tensor maths needed).
import type { CausalLM, TextTokenizer } from '../src/generate.js';
import type { SequenceScorer } from '../src/eval.js';

/** Vocabulary: 256 bytes + end-of-text. */
export const EOT = 256;
export const VOCAB = 257;

/**
 * logits[next] = table[prev][next]; the cache holds the last token and counts forward calls, so
 * tests can tell cached from uncached runs. `forwardTokens` counts every token fed.
 */
export class BigramLM implements CausalLM, SequenceScorer {
  readonly vocabSize = VOCAB;
  forwardTokens = 0;
  constructor(
    readonly table: Float32Array,
    readonly contextLength = 64,
  ) {}

  /** A model that, from each byte, strongly prefers the next byte of `text` (cycling), with noise. */
  static fromText(text: string, contextLength = 64, strength = 4): BigramLM {
    const bytes = Buffer.from(text, 'utf8');
    const table = new Float32Array(VOCAB * VOCAB);
    let seed = 12345;
    for (let i = 0; i < table.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      table[i] = (seed / 2 ** 32) * 0.5;
    }
    for (let i = 0; i < bytes.length; i++) table[bytes[i] * VOCAB + bytes[(i + 1) % bytes.length]] += strength;
    return new BigramLM(table, contextLength);
  }

  newCache(): { last: number; length: number } {
    return { last: -1, length: 0 };
  }

  nextLogits(ids: Int32Array, cache: unknown): Float32Array {
    this.forwardTokens += ids.length;
    const c = cache as { last: number; length: number } | null;
    if (c) {
      c.last = ids[ids.length - 1];
      c.length += ids.length;
    }
    const prev = ids[ids.length - 1];
    return this.table.slice(prev * VOCAB, prev * VOCAB + VOCAB);
  }

  logitsAll(ids: Int32Array): Float32Array {
    const out = new Float32Array(ids.length * VOCAB);
    for (let t = 0; t < ids.length; t++) out.set(this.table.subarray(ids[t] * VOCAB, ids[t] * VOCAB + VOCAB), t * VOCAB);
    return out;
  }
}

/** Bytes as ids, 256 = end of text. */
export const byteTokenizer: TextTokenizer & { decode(ids: ArrayLike<number>): string } = {
  eotId: EOT,
  encode: (text) => Array.from(Buffer.from(text, 'utf8')),
  decode: (ids) => Buffer.from(Array.from(ids).filter((i) => i < 256)).toString('utf8'),
  createDecoder() {
    const decoder = new TextDecoder('utf-8');
    return {
      push: (ids) => decoder.decode(Uint8Array.from((typeof ids === 'number' ? [ids] : Array.from(ids)).filter((i) => i < 256)), { stream: true }),
      flush: () => decoder.decode(),
    };
  },
};
