// Pretokenization: documents → token ids with an end-of-text separator → train/val `.bin` shards.
import type { Document } from '../types.js';
import { DataError } from '../errors.js';
import { TokenShardWriter } from './writer.js';

/** What pretokenizing needs from a tokenizer (an @lmkit/tokenizer encoding fits through a small adapter). */
export interface TokenEncoder {
  /** Token ids of `text` (special tokens in the text are encoded as ordinary text). */
  encode(text: string): ArrayLike<number>;
  /** The id that separates documents (`<|endoftext|>`, as nanoGPT and llm.c put before each document). */
  eotToken: number;
  /** Vocabulary size including special tokens (picks uint16 or uint32 storage). */
  vocabSize: number;
}

/** Options for {@link pretokenize}. */
export interface PretokenizeOptions {
  /** The tokenizer. */
  encoder: TokenEncoder;
  /** Output directory for `train_*.bin` and `val_*.bin`. */
  outDir: string;
  /** Fraction of tokens that go to validation, taken whole documents at a time, interleaved. Default 0.01. */
  valFraction?: number;
  /** Tokens per shard. Default 100 000 000 (nanoGPT's fineweb.py). */
  shardTokens?: number;
  /** Called after each document with the tokens written so far. */
  onProgress?: (tokens: number, documents: number) => void;
}

/** What {@link pretokenize} wrote. */
export interface PretokenizeResult {
  train: { files: string[]; tokens: number };
  val: { files: string[]; tokens: number };
  documents: number;
  dtype: 'uint16' | 'uint32';
}

/**
 * Tokenizes documents into llm.c/nanoGPT shards, each document preceded by the EOT token (so every
 * document, the first included, is delimited as in nanoGPT's fineweb.py). A document goes to
 * validation whenever validation holds less than `valFraction` of all tokens so far: the first
 * document always does (as nanoGPT takes its first shard for validation), so a small corpus still
 * gets a validation shard, and the split is deterministic and tracks the fraction at any size.
 */
export async function pretokenize(docs: AsyncIterable<Document> | Iterable<Document>, options: PretokenizeOptions): Promise<PretokenizeResult> {
  const valFraction = options.valFraction ?? 0.01;
  if (!(valFraction >= 0 && valFraction < 1)) throw new DataError('DATA_BAD_OPTION', `valFraction must be in [0, 1), got ${valFraction}`);
  const common = { dir: options.outDir, vocabSize: options.encoder.vocabSize, ...(options.shardTokens === undefined ? {} : { shardTokens: options.shardTokens }) };
  const train = new TokenShardWriter({ ...common, prefix: 'train' });
  const val = new TokenShardWriter({ ...common, prefix: 'val' });
  let documents = 0;
  for await (const doc of docs) {
    const ids = options.encoder.encode(doc.text);
    const tokens = new Uint32Array(ids.length + 1);
    tokens[0] = options.encoder.eotToken;
    for (let i = 0; i < ids.length; i++) tokens[i + 1] = ids[i]!;
    const total = train.tokens + val.tokens + tokens.length;
    const writer = val.tokens < valFraction * total ? val : train;
    await writer.write(tokens);
    documents++;
    options.onProgress?.(train.tokens + val.tokens, documents);
  }
  return {
    train: { files: await train.close(), tokens: train.tokens },
    val: { files: await val.close(), tokens: val.tokens },
    documents,
    dtype: train.dtype,
  };
}
