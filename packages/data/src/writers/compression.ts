// Output compression for JSONL shards: gzip always; zstd only where node:zlib has a zstd compressor (Node >= 22.15).
import * as zlib from 'node:zlib';
import { DataError } from '../errors.js';

/** Compression of written shards. */
export type OutputCompression = 'none' | 'gzip' | 'zstd';

type ZstdSync = (data: Uint8Array) => Buffer;

/** True when this Node can write `.zst` (fzstd only decompresses; Node 20 has no zstd compressor). */
export function canWriteZstd(): boolean {
  return typeof (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync === 'function';
}

/** The file suffix for a compression (`""`, `".gz"`, `".zst"`). */
export function compressionSuffix(compression: OutputCompression): string {
  return compression === 'gzip' ? '.gz' : compression === 'zstd' ? '.zst' : '';
}

/** Compresses a whole chunk; throws DATA_ZSTD_UNAVAILABLE for zstd on a Node without it. */
export function compressChunk(data: Uint8Array, compression: OutputCompression): Uint8Array {
  if (compression === 'none') return data;
  if (compression === 'gzip') return zlib.gzipSync(data, { level: 6 });
  if (!canWriteZstd()) {
    throw new DataError('DATA_ZSTD_UNAVAILABLE', `this Node (${process.version}) cannot write zstd: node:zlib has no zstd compressor before Node 22.15`, {
      hint: 'write gzip (--compression gzip) or plain JSONL, or run on Node >= 22.15',
    });
  }
  return (zlib as unknown as { zstdCompressSync: ZstdSync }).zstdCompressSync(data);
}
