// Token shard writer: appends token ids and cuts `.bin` shards of a fixed size, each written atomically.
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { DataError } from '../errors.js';
import { bytesPerToken, dtypeForVocab, encodeShardHeader, type TokenDtype } from './format.js';

/** Options for {@link TokenShardWriter}. */
export interface TokenShardWriterOptions {
  /** Output directory (created). */
  dir: string;
  /** Shard name prefix: shards are `<prefix>_<000000>.bin`. Default `"train"`. */
  prefix?: string;
  /** Vocabulary size: picks uint16 (≤ 65 536) or uint32, and bounds-checks every id. */
  vocabSize: number;
  /** Tokens per shard (the last one may be shorter). Default 100 000 000, as nanoGPT's fineweb.py. */
  shardTokens?: number;
}

/**
 * Writes token ids into llm.c/nanoGPT `.bin` shards. Memory holds at most one shard.
 *
 * @example
 * const writer = new TokenShardWriter({ dir: 'tok', vocabSize: 50257 });
 * await writer.write([50256, 15496, 995]);
 * await writer.close(); // ['tok/train_000000.bin']
 */
export class TokenShardWriter {
  /** Storage width of every shard this writer produces. */
  readonly dtype: TokenDtype;
  private buffer: Uint16Array | Uint32Array;
  private length = 0;
  private index = 0;
  private total = 0;
  private readonly written: string[] = [];
  private readonly shardTokens: number;
  private readonly prefix: string;

  constructor(private readonly options: TokenShardWriterOptions) {
    if (!Number.isInteger(options.vocabSize) || options.vocabSize <= 0 || options.vocabSize > 2 ** 32) {
      throw new DataError('DATA_BAD_VOCAB', `vocabSize must be an integer in [1, 2^32], got ${options.vocabSize}`);
    }
    this.dtype = dtypeForVocab(options.vocabSize);
    this.shardTokens = options.shardTokens ?? 100_000_000;
    if (!Number.isInteger(this.shardTokens) || this.shardTokens <= 0 || this.shardTokens >= 2 ** 31) {
      throw new DataError('DATA_BAD_SHARD_SIZE', `shardTokens must be an integer in [1, 2^31), got ${this.shardTokens}`, { hint: 'the header stores the count as int32' });
    }
    this.prefix = options.prefix ?? 'train';
    this.buffer = this.allocate(Math.min(this.shardTokens, 1 << 20));
  }

  private allocate(n: number): Uint16Array | Uint32Array {
    return this.dtype === 'uint16' ? new Uint16Array(n) : new Uint32Array(n);
  }

  /** Tokens written so far (all shards). */
  get tokens(): number {
    return this.total;
  }

  /** Appends token ids; writes a shard each time `shardTokens` are buffered. */
  async write(tokens: ArrayLike<number>): Promise<void> {
    for (let i = 0; i < tokens.length; ) {
      if (this.length === this.buffer.length && this.buffer.length < this.shardTokens) {
        const grown = this.allocate(Math.min(this.shardTokens, this.buffer.length * 2));
        grown.set(this.buffer);
        this.buffer = grown;
      }
      const n = Math.min(tokens.length - i, this.buffer.length - this.length);
      for (let j = 0; j < n; j++) {
        const id = tokens[i + j]!;
        if (!(id >= 0 && id < this.options.vocabSize) || !Number.isInteger(id)) {
          throw new DataError('DATA_BAD_TOKEN', `token id ${id} is outside the vocabulary [0, ${this.options.vocabSize})`, { hint: 'pass the tokenizer\'s full vocabulary size, special tokens included' });
        }
        this.buffer[this.length + j] = id;
      }
      this.length += n;
      this.total += n;
      i += n;
      if (this.length === this.shardTokens) await this.flush();
    }
  }

  /** Writes the buffered tokens as a shard (no-op when empty). */
  async flush(): Promise<void> {
    if (this.length === 0) return;
    const path = join(this.options.dir, `${this.prefix}_${String(this.index++).padStart(6, '0')}.bin`);
    const body = new Uint8Array(this.buffer.buffer, 0, this.length * bytesPerToken(this.dtype));
    const file = new Uint8Array(1024 + body.length);
    file.set(encodeShardHeader(this.length, this.dtype), 0);
    file.set(body, 1024);
    await atomicWriteFile(path, file);
    this.written.push(path);
    this.length = 0;
  }

  /** Flushes the last shard and returns every shard path written. */
  async close(): Promise<string[]> {
    await this.flush();
    return [...this.written];
  }
}
