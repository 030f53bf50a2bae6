// JSONL shard writer: documents as one JSON object per line, in shards that appear atomically when complete.
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import type { Document } from '../types.js';
import { compressChunk, compressionSuffix, type OutputCompression } from './compression.js';

/** JSON.stringify replacer that writes bigint values (e.g. from Parquet) as numbers when exact, else strings. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return value;
}

/** One document as a JSONL line (no newline): `{ ...meta, id, text }`, which the JSONL reader reads back as the same document. */
export function documentToJsonLine(doc: Document): string {
  return JSON.stringify({ ...doc.meta, id: doc.id, text: doc.text }, jsonSafe);
}

/** Any JSON value as a line, bigint-safe. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, jsonSafe);
}

/** Options for {@link JsonlShardWriter}. */
export interface JsonlShardWriterOptions {
  /** Directory the shards go to (created). */
  dir: string;
  /** Shard file name prefix; shards are `<prefix>_<00000>.jsonl[.gz]`. Default `"part"`. */
  prefix?: string;
  /** Compression. Default `"none"`. */
  compression?: OutputCompression;
  /** Start a new shard once this many uncompressed bytes are buffered. Default 64 MiB. */
  maxShardBytes?: number;
}

/**
 * Writes documents to JSONL shards. Each shard is buffered in memory (at most `maxShardBytes`) and
 * written with temp file + rename, so a crash never leaves a half-written shard.
 *
 * @example
 * const writer = new JsonlShardWriter({ dir: 'out', compression: 'gzip' });
 * await writer.write({ id: '1', text: 'hello', meta: {} });
 * const files = await writer.close();
 */
export class JsonlShardWriter {
  private lines: string[] = [];
  private bytes = 0;
  private index = 0;
  private readonly written: string[] = [];
  private readonly options: Required<JsonlShardWriterOptions>;

  constructor(options: JsonlShardWriterOptions) {
    this.options = { prefix: 'part', compression: 'none', maxShardBytes: 64 << 20, ...options };
  }

  /** Adds a document (or any object, written as is); flushes a shard when full. */
  async write(doc: Document | Record<string, unknown>): Promise<void> {
    const line = 'text' in doc && 'meta' in doc && typeof doc.meta === 'object' ? documentToJsonLine(doc as Document) : jsonLine(doc);
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.bytes >= this.options.maxShardBytes) await this.flush();
  }

  /** Writes the buffered shard, if any. */
  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const name = `${this.options.prefix}_${String(this.index++).padStart(5, '0')}.jsonl${compressionSuffix(this.options.compression)}`;
    const path = join(this.options.dir, name);
    await atomicWriteFile(path, compressChunk(Buffer.from(this.lines.join('\n') + '\n'), this.options.compression));
    this.written.push(path);
    this.lines = [];
    this.bytes = 0;
  }

  /** Flushes and returns the paths of every shard written. */
  async close(): Promise<string[]> {
    await this.flush();
    return [...this.written];
  }
}
