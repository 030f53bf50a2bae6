// Token shard reader for training: validates the header and reads any window of tokens without loading the file.
import { open, type FileHandle } from 'node:fs/promises';
import { DataError } from '../errors.js';
import { bytesPerToken, decodeShardHeader, SHARD_HEADER_BYTES, type ShardHeader } from './format.js';

/** An open token shard; read windows with {@link TokenShard.read} and close it when done. */
export interface TokenShard extends ShardHeader {
  /** The shard's path. */
  readonly path: string;
  /** Reads tokens `[start, start + count)` (clipped to the shard) as uint16 or uint32 ids. */
  read(start: number, count: number): Promise<Uint16Array | Uint32Array>;
  /** Reads every token. */
  readAll(): Promise<Uint16Array | Uint32Array>;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * Opens an llm.c/nanoGPT `.bin` shard: checks magic, version and that the file size matches the
 * token count (as llm.c's dataloader does), then serves random windows with positional reads.
 *
 * @example
 * const shard = await openTokenShard('tok/train_000000.bin');
 * const x = await shard.read(1000, 1025); // one (T + 1) window for next-token targets
 */
export async function openTokenShard(path: string): Promise<TokenShard> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new DataError('DATA_INPUT_NOT_FOUND', `${path}: cannot open token shard (${(error as NodeJS.ErrnoException).code ?? error})`, { hint: 'check the path', cause: error });
  }
  const headerBytes = new Uint8Array(SHARD_HEADER_BYTES);
  const { bytesRead } = await handle.read(headerBytes, 0, SHARD_HEADER_BYTES, 0);
  const header = decodeShardHeader(headerBytes.subarray(0, bytesRead));
  const size = (await handle.stat()).size;
  const fail = async (message: string): Promise<never> => {
    await handle.close();
    throw new DataError('DATA_BAD_SHARD', `${path}: ${message}`, { hint: 'regenerate it with `lmkit data pretokenize`', details: { path } });
  };
  if (typeof header === 'string') return fail(header);
  const width = bytesPerToken(header.dtype);
  const expected = SHARD_HEADER_BYTES + header.numTokens * width;
  if (size !== expected) await fail(`size ${size} bytes does not match header: ${header.numTokens} ${header.dtype} tokens need ${expected}`);
  const read = async (start: number, count: number): Promise<Uint16Array | Uint32Array> => {
    const from = Math.max(0, Math.min(start, header.numTokens));
    const n = Math.max(0, Math.min(count, header.numTokens - from));
    const bytes = new Uint8Array(n * width);
    if (n > 0) await handle.read(bytes, 0, bytes.length, SHARD_HEADER_BYTES + from * width);
    return header.dtype === 'uint16' ? new Uint16Array(bytes.buffer, 0, n) : new Uint32Array(bytes.buffer, 0, n);
  };
  return {
    ...header,
    path,
    read,
    readAll: () => read(0, header.numTokens),
    close: () => handle.close(),
  };
}
