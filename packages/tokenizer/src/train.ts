// Byte-level BPE training on a stream of texts: split with the pattern, count distinct words, learn merges.
import { TokenizerError } from './errors.js';
import { bytesKey, keyBytes, utf8Runs } from './internal/bytes.js';
import { learnMerges } from './internal/bpe-merges.js';
import { RankTable } from './internal/ranks.js';
import { GPT4_SPLIT_PATTERN, compilePattern } from './pattern.js';
import { specialRegex } from './special-tokens.js';
import { Tokenizer } from './tokenizer.js';

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Total vocabulary: 256 byte tokens + learned merges + special tokens. Required. */
  vocabSize: number;
  /** Split pattern (tiktoken/Rust syntax, stored as written). Default {@link GPT4_SPLIT_PATTERN}. */
  pattern?: string;
  /** Special tokens, given the ids after the learned tokens, in this order. Default none. */
  specialTokens?: string[];
  /** A pair must occur at least this often to be merged; training stops earlier otherwise. Default 0 (any pair). */
  minFrequency?: number;
  /** Name of the resulting tokenizer. Default "bpe-<vocabSize>". */
  name?: string;
  /** Progress: called with the phase and counts (throttle on your side). */
  onProgress?: (event: TrainProgress) => void;
}

/** A progress event of {@link trainBpe}. */
export interface TrainProgress {
  /** 'count' while reading the corpus, 'merge' while learning merges. */
  phase: 'count' | 'merge';
  /** Bytes read so far ('count') or tokens in the vocabulary so far ('merge'). */
  done: number;
  /** Target vocabulary size during 'merge'. */
  total?: number;
}

/** Statistics of the last training, attached to the tokenizer {@link trainBpe} returns. */
export interface TrainStats {
  /** Bytes of text read. */
  bytes: number;
  /** Pre-tokenized pieces seen. */
  pieces: number;
  /** Distinct pieces (what memory scales with). */
  distinctWords: number;
  /** Tokens learned beyond the 256 bytes. */
  merges: number;
  /** True when the corpus ran out of pairs (or of pairs above minFrequency) before vocabSize. */
  stoppedEarly: boolean;
}

/** A trained tokenizer and how the training went. */
export interface TrainResult {
  /** The tokenizer (free it when done). */
  tokenizer: Tokenizer;
  /** Corpus and training statistics. */
  stats: TrainStats;
}

/**
 * Trains a byte-level BPE on texts (strings, or raw bytes where invalid UTF-8 is kept byte-exact),
 * from any iterable or async iterable, with the incremental pair-count algorithm. Memory grows with
 * the number of distinct pieces, not with the corpus. Ties are broken deterministically (higher
 * count, then lower pair), so the same corpus always gives the same tokenizer.
 *
 * @example
 * const { tokenizer } = await trainBpe(['some text', 'more text'], { vocabSize: 300 });
 */
export async function trainBpe(
  texts: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  options: TrainBpeOptions,
): Promise<TrainResult> {
  const pattern = options.pattern ?? GPT4_SPLIT_PATTERN;
  const specials = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 0;
  validate(options, specials, minFrequency);
  const splitter = compilePattern(pattern);
  const specialRe = specialRegex(specials);

  // Phase 1: distinct pieces with counts. Text pieces are keyed by the string, invalid UTF-8 by its bytes.
  const textCounts = new Map<string, number>();
  const rawCounts = new Map<string, number>();
  let bytes = 0;
  let pieces = 0;
  const countText = (text: string): void => {
    // NOTE: String#match with a global regex returns only the strings, much cheaper than exec() objects.
    const found = text.match(splitter);
    if (found === null) return;
    pieces += found.length;
    for (let i = 0; i < found.length; i++) {
      const p = found[i];
      const c = textCounts.get(p);
      if (c !== undefined) textCounts.set(p, c + 1);
      // NOTE: V8 keeps long matches as slices of the whole chunk; copy new keys so the map does not keep
      // every chunk alive (memory must follow the distinct words, not the corpus).
      else textCounts.set(p.length < 13 ? p : (' ' + p).slice(1), 1);
    }
  };
  const countSegment = (text: string): void => {
    if (specialRe === undefined) return countText(text);
    for (const part of text.split(specialRe)) if (part) countText(part);
  };
  for await (const item of texts as AsyncIterable<string | Uint8Array>) {
    if (typeof item === 'string') {
      bytes += Buffer.byteLength(item);
      countSegment(item);
    } else {
      bytes += item.length;
      const text = strictUtf8(item);
      if (text !== undefined) {
        countSegment(text);
        options.onProgress?.({ phase: 'count', done: bytes });
        continue;
      }
      for (const run of utf8Runs(item)) {
        if (run.valid) countSegment(run.text);
        else {
          pieces++;
          const k = bytesKey(run.bytes);
          rawCounts.set(k, (rawCounts.get(k) ?? 0) + 1);
        }
      }
    }
    options.onProgress?.({ phase: 'count', done: bytes });
  }
  if (pieces === 0) {
    throw new TokenizerError('TOKENIZER_EMPTY_CORPUS', 'the training corpus is empty (no text to learn from)', {
      hint: 'pass non-empty texts or files',
    });
  }

  // Phase 2: merges over the distinct words.
  const words: Uint8Array[] = [];
  const counts: number[] = [];
  const encoder = new TextEncoder();
  for (const [w, c] of textCounts) words.push(encoder.encode(w)), counts.push(c);
  for (const [w, c] of rawCounts) words.push(keyBytes(w)), counts.push(c);
  const targetTokens = options.vocabSize - specials.length;
  const tokens = learnMerges({ words, counts }, {
    targetTokens,
    minFrequency,
    onMerge: options.onProgress ? (n) => (n === 257 || n % 256 === 0) && options.onProgress!({ phase: 'merge', done: n, total: targetTokens }) : undefined,
  });
  options.onProgress?.({ phase: 'merge', done: tokens.length, total: targetTokens });
  const specialTokens: Record<string, number> = {};
  specials.forEach((t, i) => (specialTokens[t] = tokens.length + i));
  const tokenizer = new Tokenizer({ name: options.name ?? `bpe-${options.vocabSize}`, pattern, ranks: new RankTable(tokens), specialTokens });
  return {
    tokenizer,
    stats: { bytes, pieces, distinctWords: words.length, merges: tokens.length - 256, stoppedEarly: tokens.length < targetTokens },
  };
}

const strict = new TextDecoder('utf-8', { fatal: true });
/** The text of `bytes` if they are valid UTF-8 (the common case, decoded natively), else undefined. */
function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

function validate(options: TrainBpeOptions, specials: string[], minFrequency: number): void {
  const bad = (field: string, problem: string, hint: string): TokenizerError =>
    new TokenizerError('TOKENIZER_BAD_OPTION', `${field}: ${problem}`, { hint, details: { field } });
  if (!Number.isInteger(options.vocabSize)) throw bad('vocabSize', `must be an integer, got ${options.vocabSize}`, 'e.g. 32000');
  if (options.vocabSize < 256 + specials.length) {
    throw new TokenizerError(
      'TOKENIZER_VOCAB_TOO_SMALL',
      `vocabSize ${options.vocabSize} is below 256 byte tokens + ${specials.length} special tokens = ${256 + specials.length}`,
      { hint: `use a vocabSize of at least ${256 + specials.length} (typical: 8192-100000)`, details: { vocabSize: options.vocabSize, minimum: 256 + specials.length } },
    );
  }
  if (new Set(specials).size !== specials.length) throw bad('specialTokens', 'contains duplicates', 'list each special token once');
  for (const t of specials) if (!t) throw bad('specialTokens', 'contains an empty string', 'special tokens must be non-empty');
  if (!(minFrequency >= 0)) throw bad('minFrequency', `must be ≥ 0, got ${minFrequency}`, 'e.g. 2');
}
