// Byte-level line splitting over plain, gzip and zstd streams, tracking each line's byte offset and number.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** One line (without its `\n`) and where it starts in the (decompressed) byte stream. */
export interface RawLine {
  bytes: Uint8Array;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Offset just past the line's `\n` (where the next line starts). */
  end: number;
}

/** Thrown inside a byte stream when a compressed file ends early or is corrupt. */
export class TruncatedInput extends Error {}

/** How a file's bytes are encoded on disk, from its extension. */
export function compressionOf(path: string): 'none' | 'gzip' | 'zstd' {
  if (/\.gz$/i.test(path)) return 'gzip';
  if (/\.zst$/i.test(path)) return 'zstd';
  return 'none';
}

/** Streams the raw bytes of `path` from `start` (plain files only) to the end. */
export async function* fileBytes(path: string, start = 0, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { start, highWaterMark: chunkSize })) yield chunk as Uint8Array;
}

/** Streams the decompressed bytes of a `.gz` file (all members, so gzip-per-record WARC works). */
export async function* gunzipBytes(path: string, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  const source = createReadStream(path, { highWaterMark: chunkSize });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Uint8Array;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') throw new TruncatedInput(`gzip stream is truncated or corrupt (${code})`);
    throw error;
  }
}

/** Streams the decompressed bytes of a `.zst` file with fzstd's streaming decoder. */
export async function* unzstdBytes(path: string, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const decoder = new Decompress((data) => out.push(data));
  let ended = false;
  for await (const chunk of createReadStream(path, { highWaterMark: chunkSize })) {
    try {
      decoder.push(chunk as Uint8Array);
    } catch (error) {
      throw new TruncatedInput(`zstd stream is corrupt (${(error as Error).message})`);
    }
    for (const piece of out) yield piece;
    out = [];
  }
  try {
    decoder.push(new Uint8Array(0), true);
    ended = true;
  } catch (error) {
    throw new TruncatedInput(`zstd stream is truncated (${(error as Error).message})`);
  }
  for (const piece of out) yield piece;
  if (!ended) throw new TruncatedInput('zstd stream is truncated');
}

/** The decompressed bytes of any supported file, from `start` when plain. */
export function decodedBytes(path: string, start = 0, chunkSize?: number): AsyncGenerator<Uint8Array> {
  const kind = compressionOf(path);
  if (kind === 'gzip') return gunzipBytes(path, chunkSize);
  if (kind === 'zstd') return unzstdBytes(path, chunkSize);
  return fileBytes(path, start, chunkSize);
}

/**
 * Splits a byte stream into lines. `base` is the byte offset of the stream's first byte. A final line
 * without `\n` is yielded too. Lines are views or copies that stay valid after the next yield.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>, base = 0): AsyncGenerator<RawLine> {
  let carry: Uint8Array | undefined;
  let offset = base; // offset of carry[0] (or of the next chunk's first byte when no carry)
  for await (const chunk of chunks) {
    let from = 0;
    let nl = chunk.indexOf(10);
    if (carry !== undefined && nl >= 0) {
      const line = new Uint8Array(carry.length + nl);
      line.set(carry, 0);
      line.set(chunk.subarray(0, nl), carry.length);
      const end = offset + line.length + 1;
      yield { bytes: line, offset, end };
      offset = end;
      carry = undefined;
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    }
    while (nl >= 0 && carry === undefined) {
      const end = offset + (nl - from) + 1;
      yield { bytes: chunk.subarray(from, nl), offset, end };
      offset = end;
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      if (carry === undefined) carry = rest.slice();
      else {
        const joined = new Uint8Array(carry.length + rest.length);
        joined.set(carry, 0);
        joined.set(rest, carry.length);
        carry = joined;
      }
    }
  }
  if (carry !== undefined && carry.length > 0) yield { bytes: carry, offset, end: offset + carry.length };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; returns undefined for invalid bytes. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
