// Loads a directory of llm.c `.bin` token shards into memory and splits it into train and validation token runs.
import { readdir, stat } from 'node:fs/promises';
import { openTokenShard } from '@lmkit/data';
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

/** Reads a whole llm.c shard into memory through @lmkit/data's reader (header, version and size checked there). */
export async function readTokenShard(path: string): Promise<TokenArray> {
  const shard = await openTokenShard(path);
  try {
    return await shard.readAll();
  } finally {
    await shard.close();
  }
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
