// A byte-level BPE tokenizer that encodes through tiktoken's WASM core, with a heap merge for long pieces.
import { Tiktoken } from 'tiktoken';
import { TokenizerError } from './errors.js';
import { bytesKey, utf8, utf8Runs } from './internal/bytes.js';
import { heapMerge } from './internal/heap-merge.js';
import { findLongStretches } from './internal/long-runs.js';
import { RankTable } from './internal/ranks.js';
import { compilePattern, isSpaceBoundaryPattern } from './pattern.js';
import { assertNoDisallowed, resolvePolicy, type SpecialPolicy, type SpecialTokenOptions } from './special-tokens.js';
import { StreamingDecoder } from './streaming-decoder.js';

/** Options for {@link Tokenizer.encode}; see {@link SpecialTokenOptions}. */
export type EncodeOptions = SpecialTokenOptions;

/** What a {@link Tokenizer} is built from. */
export interface TokenizerSpec {
  /** A name for messages and files, e.g. "cl100k_base" or "sotu-32k". */
  name: string;
  /** The split pattern exactly as written (tiktoken/Rust regex syntax). */
  pattern: string;
  /** Token bytes by rank (= id); or a loader, called on first need, for encodings whose core comes from elsewhere. */
  ranks: RankTable | (() => RankTable);
  /** Special token → id. Default none. */
  specialTokens?: Record<string, number>;
  /** A ready tiktoken core; default: built from the ranks with `new Tiktoken(...)`. */
  core?: () => Tiktoken;
  /** One past the highest id, when known without loading the ranks. Default: computed. */
  vocabSize?: number;
}

/** Pieces at least this many UTF-8 bytes long skip tiktoken's quadratic merge for our heap merge. */
export const LONG_PIECE_BYTES = 100;

/** A piece ending in whitespace by JS's or Rust's definition (U+0085 is Rust-only, U+FEFF JS-only). */
const WHITESPACE_END = /[\s\u0085]$/u;

/**
 * A byte-level BPE tokenizer: the OpenAI encodings ({@link getEncoding}), trained ones
 * ({@link trainBpe}) and loaded ones share this class. Ids are ranks, as in tiktoken.
 * Holds WASM memory: call {@link Tokenizer.free} when done (cached encodings are freed by
 * {@link freeEncodings}).
 *
 * @example
 * const enc = getEncoding('cl100k_base');
 * const ids = enc.encode('hello world'); // Uint32Array [15339, 1917]
 * enc.decode(ids); // 'hello world'
 */
export class Tokenizer {
  /** A name for messages and files. */
  readonly name: string;
  /** The split pattern exactly as written. */
  readonly pattern: string;
  /** Special token → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  private ranksOrLoader: RankTable | (() => RankTable);
  private coreFactory: () => Tiktoken;
  private coreInstance: Tiktoken | undefined;
  private splitter: RegExp | undefined;
  private readonly spaceSafe: boolean;
  private idBytes: (Uint8Array | undefined)[] | undefined;
  private flatTable: { bytes: Uint8Array; offsets: Uint32Array } | undefined;
  private policies = new Map<string, SpecialPolicy>();
  private freed = false;
  private readonly knownVocabSize: number | undefined;

  constructor(spec: TokenizerSpec) {
    this.name = spec.name;
    this.pattern = spec.pattern;
    this.specialTokens = new Map(Object.entries(spec.specialTokens ?? {}));
    this.ranksOrLoader = spec.ranks;
    this.knownVocabSize = spec.vocabSize;
    this.spaceSafe = isSpaceBoundaryPattern(spec.pattern);
    if (spec.ranks instanceof RankTable) checkRanks(spec.ranks, this.specialTokens, spec.name);
    this.coreFactory = spec.core ?? (() => new Tiktoken(this.ranks.toCompact(), Object.fromEntries(this.specialTokens), this.pattern));
  }

  /** Token bytes by rank. */
  get ranks(): RankTable {
    if (!(this.ranksOrLoader instanceof RankTable)) this.ranksOrLoader = this.ranksOrLoader();
    return this.ranksOrLoader;
  }

  /** One past the highest id (ranks and special tokens). */
  get vocabSize(): number {
    if (this.knownVocabSize !== undefined) return this.knownVocabSize;
    let max = this.ranks.size - 1;
    for (const id of this.specialTokens.values()) max = Math.max(max, id);
    return max + 1;
  }

  private get core(): Tiktoken {
    if (this.freed) throw new TokenizerError('TOKENIZER_FREED', `tokenizer ${this.name} was freed`, { hint: 'create or load it again' });
    if (this.coreInstance === undefined) this.coreInstance = this.coreFactory();
    return this.coreInstance;
  }

  private policy(options: EncodeOptions | undefined): SpecialPolicy {
    const key = JSON.stringify([
      options?.allowedSpecial === 'all' || options?.allowedSpecial === undefined ? options?.allowedSpecial ?? null : [...options.allowedSpecial],
      options?.disallowedSpecial === 'all' || options?.disallowedSpecial === undefined ? options?.disallowedSpecial ?? null : [...options.disallowedSpecial],
    ]);
    let p = this.policies.get(key);
    if (p === undefined) {
      p = resolvePolicy(this.specialTokens, options);
      this.policies.set(key, p);
    }
    return p;
  }

  /**
   * Encodes text to ids. Special-token strings follow tiktoken's policy: by default any special
   * token in the text is an error (TOKENIZER_DISALLOWED_SPECIAL); see {@link EncodeOptions}.
   */
  encode(text: string, options?: EncodeOptions): Uint32Array {
    const policy = this.policy(options);
    assertNoDisallowed(text, policy);
    const re = policy.allowedRe;
    if (re === undefined) return this.encodeOrdinary(text);
    const out: number[] = [];
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m.index > last) pushAll(out, this.encodeOrdinary(text.slice(last, m.index)));
      out.push(this.specialTokens.get(m[0])!);
      last = m.index + m[0].length;
    }
    if (last === 0) return this.encodeOrdinary(text);
    if (last < text.length) pushAll(out, this.encodeOrdinary(text.slice(last)));
    return Uint32Array.from(out);
  }

  /** Encodes text with no special-token handling at all (special strings are plain text). */
  encodeOrdinary(text: string): Uint32Array {
    if (this.spaceSafe) {
      const ranges = findLongStretches(text, Math.ceil(LONG_PIECE_BYTES / 3));
      if (ranges.length === 0) return this.core.encode_ordinary(text);
      const out: number[] = [];
      let last = 0;
      for (let r = 0; r < ranges.length; r += 2) {
        if (ranges[r] > last) pushAll(out, this.core.encode_ordinary(text.slice(last, ranges[r])));
        this.encodeBySplitting(text.slice(ranges[r], ranges[r + 1]), out);
        last = ranges[r + 1];
      }
      if (last < text.length) pushAll(out, this.core.encode_ordinary(text.slice(last)));
      return Uint32Array.from(out);
    }
    const out: number[] = [];
    this.encodeBySplitting(text, out);
    return Uint32Array.from(out);
  }

  /** Splits with the pattern in JS; short pieces go to tiktoken in batches, long ones to the heap merge. */
  private encodeBySplitting(text: string, out: number[]): void {
    this.splitter ??= compilePattern(this.pattern);
    const re = this.splitter;
    re.lastIndex = 0;
    let batchStart = 0;
    // NOTE: tiktoken re-splits each batch, and `\s+(?!\S)` looks one character past a piece: a batch
    // may only end after a piece whose last character is not whitespace (then every match in it ends
    // as it did in context). Pieces after the last such boundary are merged one by one.
    let safe = 0;
    const pending: number[] = []; // starts of the pieces after `safe`
    let pos = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const piece = m[0];
      if (piece.length === 0) {
        re.lastIndex++;
        continue;
      }
      pos = m.index + piece.length;
      if (piece.length * 3 >= LONG_PIECE_BYTES && Buffer.byteLength(piece) >= LONG_PIECE_BYTES) {
        let start = Math.max(safe, batchStart);
        if (start > batchStart) pushAll(out, this.core.encode_ordinary(text.slice(batchStart, start)));
        for (const s of pending) {
          if (s > start) heapMerge(utf8(text.slice(start, s)), this.ranks.byKey, out);
          start = Math.max(start, s);
        }
        if (m.index > start) heapMerge(utf8(text.slice(start, m.index)), this.ranks.byKey, out);
        heapMerge(utf8(piece), this.ranks.byKey, out);
        batchStart = safe = pos;
        pending.length = 0;
        continue;
      }
      pending.push(m.index);
      if (!WHITESPACE_END.test(piece)) {
        safe = pos;
        pending.length = 0;
      }
    }
    if (text.length > batchStart) pushAll(out, this.core.encode_ordinary(text.slice(batchStart)));
  }

  /**
   * Encodes raw bytes exactly, including invalid UTF-8: valid stretches are encoded as text,
   * invalid bytes as byte-level pieces of their own, so `decodeBytes(encodeBytes(b))` equals `b`.
   * Without `options` special-token strings are plain text; with them, as in {@link encode}.
   */
  encodeBytes(bytes: Uint8Array, options?: EncodeOptions): Uint32Array {
    const out: number[] = [];
    for (const run of utf8Runs(bytes)) {
      if (run.valid) pushAll(out, options === undefined ? this.encodeOrdinary(run.text) : this.encode(run.text, options));
      else heapMerge(run.bytes, this.ranks.byKey, out);
    }
    return Uint32Array.from(out);
  }

  /** Encodes many texts (same options for all). */
  encodeBatch(texts: readonly string[], options?: EncodeOptions): Uint32Array[] {
    return texts.map((t) => this.encode(t, options));
  }

  /** The number of tokens `text` encodes to. */
  countTokens(text: string, options?: EncodeOptions): number {
    return this.encode(text, options).length;
  }

  private get bytesById(): (Uint8Array | undefined)[] {
    if (this.idBytes === undefined) {
      const table = this.ranks.tokens.slice();
      for (const [token, id] of this.specialTokens) table[id] = utf8(token);
      this.idBytes = table;
    }
    return this.idBytes;
  }

  /** The bytes of one token id. Throws TOKENIZER_UNKNOWN_TOKEN for ids the tokenizer lacks. */
  tokenBytes(id: number): Uint8Array {
    const b = this.bytesById[id];
    if (b === undefined) throw unknownToken(id, this.vocabSize);
    return b;
  }

  /** The id of the token with exactly these bytes, if there is one (special tokens match by their text). */
  tokenId(bytes: Uint8Array): number | undefined {
    return this.ranks.byKey.get(bytesKey(bytes)) ?? this.specialTokens.get(new TextDecoder().decode(bytes));
  }

  /** All token bytes in one buffer, with `offsets[id]..offsets[id + 1]` per id (empty for gaps). */
  private get flat(): { bytes: Uint8Array; offsets: Uint32Array } {
    if (this.flatTable === undefined) {
      const table = this.bytesById;
      const offsets = new Uint32Array(table.length + 1);
      for (let id = 0; id < table.length; id++) offsets[id + 1] = offsets[id] + (table[id]?.length ?? 0);
      const bytes = new Uint8Array(offsets[table.length]);
      table.forEach((b, id) => b && bytes.set(b, offsets[id]));
      this.flatTable = { bytes, offsets };
    }
    return this.flatTable;
  }

  /** Decodes ids to the exact bytes they stand for. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const { bytes, offsets } = this.flat;
    const n = offsets.length - 1;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < n) || offsets[id] === offsets[id + 1]) throw unknownToken(id, this.vocabSize, i);
      total += offsets[id + 1] - offsets[id];
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const end = offsets[id + 1];
      for (let k = offsets[id]; k < end; k++) out[o++] = bytes[k];
    }
    return out;
  }

  /** Decodes ids to text; invalid UTF-8 becomes U+FFFD (use {@link decodeBytes} to keep bytes exact). */
  decode(ids: ArrayLike<number>): string {
    return utf8Decoder.decode(this.decodeBytes(ids));
  }

  /** A decoder for ids arriving one by one that never splits a UTF-8 character. */
  createDecoder(): StreamingDecoder {
    return new StreamingDecoder((ids) => this.decodeBytes(ids));
  }

  /** Frees the WASM encoder. The tokenizer cannot encode afterwards. */
  free(): void {
    if (this.coreInstance !== undefined) this.coreInstance.free();
    this.coreInstance = undefined;
    this.freed = true;
  }
}

const utf8Decoder = new TextDecoder('utf-8');

function pushAll(out: number[], ids: Uint32Array): void {
  for (let i = 0; i < ids.length; i++) out.push(ids[i]);
}

function unknownToken(id: number, vocabSize: number, index?: number): TokenizerError {
  return new TokenizerError('TOKENIZER_UNKNOWN_TOKEN', `token id ${id}${index === undefined ? '' : ` at index ${index}`} is not in the vocabulary`, {
    hint: `ids must be integers in 0..${vocabSize - 1} that the tokenizer defines; was the input made by another tokenizer?`,
    details: { id, ...(index === undefined ? {} : { index }) },
  });
}

/** A byte-level BPE needs every single byte as a token, and special ids must not collide with ranks. */
function checkRanks(ranks: RankTable, specials: ReadonlyMap<string, number>, name: string): void {
  const missing = ranks.missingBytes();
  if (missing.length) {
    throw new TokenizerError('TOKENIZER_MISSING_BYTES', `${name}: ${missing.length} single bytes have no token (e.g. 0x${missing[0].toString(16).padStart(2, '0')})`, {
      hint: 'a byte-level BPE needs all 256 bytes as tokens so any input can be encoded',
      details: { missing: missing.slice(0, 16) },
    });
  }
  for (const [token, id] of specials) {
    if (!Number.isInteger(id) || id < 0) throw new TokenizerError('TOKENIZER_BAD_OPTION', `${name}: special token "${token}" has invalid id ${id}`);
    if (ranks.tokens[id] !== undefined) {
      throw new TokenizerError('TOKENIZER_BAD_OPTION', `${name}: special token "${token}" has id ${id}, which is already an ordinary token`, {
        hint: 'give special tokens ids past the last rank',
      });
    }
  }
}
