// The llm.c / nanoGPT token shard format: a 256 × int32 little-endian header, then the tokens.

/** Header size in int32 slots (1 024 bytes). */
export const SHARD_HEADER_INTS = 256;
/** Header size in bytes. */
export const SHARD_HEADER_BYTES = SHARD_HEADER_INTS * 4;
/** llm.c's magic for GPT-2-style uint16 shards (`dev/data/data_common.py`, `"gpt-2"`). */
export const SHARD_MAGIC_U16 = 20240520;
/** llm.c's version for uint16 shards. */
export const SHARD_VERSION_U16 = 1;
/** llm.c's magic for LLaMA-3-style uint32 shards (`"llama-3"` in `data_common.py`). */
export const SHARD_MAGIC_U32 = 20240801;
/** llm.c's version for uint32 shards. */
export const SHARD_VERSION_U32 = 7;

/** Token storage width of a shard. */
export type TokenDtype = 'uint16' | 'uint32';

/** The facts a shard header holds. */
export interface ShardHeader {
  magic: number;
  version: number;
  /** Number of tokens after the header. */
  numTokens: number;
  dtype: TokenDtype;
}

/** The dtype a vocabulary of `vocabSize` ids needs: uint16 up to 65 536 ids, uint32 beyond. */
export function dtypeForVocab(vocabSize: number): TokenDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

/** Bytes per token for a dtype. */
export function bytesPerToken(dtype: TokenDtype): 2 | 4 {
  return dtype === 'uint16' ? 2 : 4;
}

/** Encodes a header: `[magic, version, numTokens, 0, ...]` as 256 little-endian int32. */
export function encodeShardHeader(numTokens: number, dtype: TokenDtype): Uint8Array {
  const bytes = new Uint8Array(SHARD_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, dtype === 'uint16' ? SHARD_MAGIC_U16 : SHARD_MAGIC_U32, true);
  view.setInt32(4, dtype === 'uint16' ? SHARD_VERSION_U16 : SHARD_VERSION_U32, true);
  view.setInt32(8, numTokens, true);
  return bytes;
}

/** Decodes a header, or returns a message saying what is wrong with it. */
export function decodeShardHeader(bytes: Uint8Array): ShardHeader | string {
  if (bytes.length < SHARD_HEADER_BYTES) return `file is ${bytes.length} bytes, shorter than the ${SHARD_HEADER_BYTES}-byte header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  const magic = view.getInt32(0, true);
  const version = view.getInt32(4, true);
  const numTokens = view.getInt32(8, true);
  let dtype: TokenDtype;
  if (magic === SHARD_MAGIC_U16 && version === SHARD_VERSION_U16) dtype = 'uint16';
  else if (magic === SHARD_MAGIC_U32 && version === SHARD_VERSION_U32) dtype = 'uint32';
  else return `magic ${magic} / version ${version} is not ${SHARD_MAGIC_U16}/${SHARD_VERSION_U16} (uint16) or ${SHARD_MAGIC_U32}/${SHARD_VERSION_U32} (uint32)`;
  if (numTokens < 0) return `negative token count ${numTokens}`;
  return { magic, version, numTokens, dtype };
}
