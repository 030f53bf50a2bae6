// Loads a directory of llm.c `.bin` token shards into memory and splits it into train and validation token runs.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainError } from '../errors.js';

/** Token ids as a shard stores them. */
export type TokenArray = Uint16Array | Uint32Array;

/** A contiguous run of tokens from one shard (windows never cross runs). */
export interface TokenRun {
  /** Shard the run comes from. */
  readonly path: string;
  /** The tokens. */
  readonly tokens: TokenArray;
}

/** A directory of shards, split for training. */
export interface TokenDataset {
  /** The directory. */
  readonly dir: string;
  /** Training token runs. */
  readonly train: readonly TokenRun[];
  /** Validation token runs (shards named `*val*`, else the held-out tail). */
  readonly val: readonly TokenRun[];
  /** Largest token id seen + 1 (a lower bound on the vocabulary size). */
  readonly maxTokenId: number;
  /** Total tokens in train and val. */
  readonly totalTokens: number;
}

/** Options for {@link openTokenDataset}. */
export interface TokenDatasetOptions {
  /** Fraction of tokens held out for validation when no `*val*` shard exists. Default 0.05. */
  valFraction?: number;
}

const MAGIC_U16 = 20240520;
const MAGIC_U32 = 20240801;
const HEADER_BYTES = 1024;

/** Reads one llm.c shard (256×int32 header: magic, version, token count; then uint16 or uint32 tokens). */
export async function readTokenShard(path: string): Promise<TokenArray> {
  const bytes = await readFile(path);
  const bad = (why: string): never => {
    throw new TrainError('TRAIN_BAD_SHARD', `${path}: ${why}`, { hint: 'regenerate it with `lmkit data pretokenize`', details: { path } });
  };
  if (bytes.length < HEADER_BYTES) bad(`${bytes.length} bytes is shorter than the 1024-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const magic = view.getInt32(0, true);
  const version = view.getInt32(4, true);
  const count = view.getInt32(8, true);
  let width = 0;
  if (magic === MAGIC_U16 && version === 1) width = 2;
  else if (magic === MAGIC_U32 && version === 7) width = 4;
  else bad(`magic ${magic} / version ${version} is not an llm.c token shard (${MAGIC_U16}/1 or ${MAGIC_U32}/7)`);
  if (bytes.length !== HEADER_BYTES + count * width) bad(`size ${bytes.length} does not match the header's ${count} tokens × ${width} bytes + 1024`);
  // NOTE: copy so the typed array is aligned whatever offset Node's pooled Buffer has.
  const body = bytes.buffer.slice(bytes.byteOffset + HEADER_BYTES, bytes.byteOffset + bytes.length);
  return width === 2 ? new Uint16Array(body) : new Uint32Array(body);
}

/**
 * Opens every `*.bin` shard in `dir` (sorted by name). Shards whose name contains `val` are
 * the validation split; without any, the last `valFraction` of the tokens is held out.
 *
 * @example
 * const ds = await openTokenDataset('out/tokens');
 */
export async function openTokenDataset(dir: string, options: TokenDatasetOptions = {}): Promise<TokenDataset> {
  const valFraction = options.valFraction ?? 0.05;
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('ENOTDIR');
    names = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
  } catch (error) {
    throw new TrainError('TRAIN_NO_DATA', `${dir}: not a readable directory of token shards`, {
      hint: 'pass --data DIR with .bin shards written by `lmkit data pretokenize`',
      details: { dir },
      cause: error,
    });
  }
  if (names.length === 0) {
    throw new TrainError('TRAIN_NO_DATA', `${dir}: no .bin token shards found`, { hint: 'run `lmkit data pretokenize` to write shards there', details: { dir } });
  }
  const train: TokenRun[] = [];
  const val: TokenRun[] = [];
  let maxTokenId = 0;
  let totalTokens = 0;
  for (const name of names) {
    const path = join(dir, name);
    const tokens = await readTokenShard(path);
    for (let i = 0; i < tokens.length; i++) if (tokens[i] >= maxTokenId) maxTokenId = tokens[i] + 1;
    totalTokens += tokens.length;
    (/val/i.test(name) ? val : train).push({ path, tokens });
  }
  if (val.length === 0 && train.length > 0) {
    let hold = Math.floor(totalTokens * valFraction);
    while (hold > 0 && train.length > 0) {
      const last = train.pop() as TokenRun;
      const take = Math.min(hold, last.tokens.length);
      val.unshift({ path: last.path, tokens: last.tokens.subarray(last.tokens.length - take) });
      if (take < last.tokens.length) train.push({ path: last.path, tokens: last.tokens.subarray(0, last.tokens.length - take) });
      hold -= take;
    }
  }
  return { dir, train, val, maxTokenId, totalTokens };
}
