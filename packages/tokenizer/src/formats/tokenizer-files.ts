// Saving and loading tokenizers: the lmkit directory (tokenizer.json + tokenizer.tiktoken + lmkit.json) and single files.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { TokenizerError, badFile } from '../errors.js';
import { Tokenizer } from '../tokenizer.js';
import { parseHfTokenizerJson, toHfTokenizerJson } from './hf-tokenizer-json.js';
import { parseMinbpeModel, toMinbpeModel } from './minbpe-model.js';
import { parseTiktokenFile, toTiktokenFile, type TiktokenFileOptions } from './tiktoken-file.js';

/** The `lmkit.json` manifest of a saved tokenizer directory. */
export interface TokenizerManifest {
  /** Always "lmkit-tokenizer". */
  format: 'lmkit-tokenizer';
  /** Manifest version, 1. */
  version: 1;
  /** Tokenizer name. */
  name: string;
  /** Split pattern exactly as written. */
  pattern: string;
  /** Special token → id. */
  specialTokens: Record<string, number>;
  /** One past the highest id. */
  vocabSize: number;
  /** File names, relative to the directory. */
  files: { tiktoken: string; huggingface: string };
}

/**
 * Writes `dir/tokenizer.tiktoken`, `dir/tokenizer.json` (Hugging Face) and `dir/lmkit.json`
 * (pattern, special tokens), each atomically. {@link loadTokenizer} reads them back.
 */
export async function saveTokenizer(tokenizer: Tokenizer, dir: string): Promise<TokenizerManifest> {
  const manifest: TokenizerManifest = {
    format: 'lmkit-tokenizer',
    version: 1,
    name: tokenizer.name,
    pattern: tokenizer.pattern,
    specialTokens: Object.fromEntries(tokenizer.specialTokens),
    vocabSize: tokenizer.vocabSize,
    files: { tiktoken: 'tokenizer.tiktoken', huggingface: 'tokenizer.json' },
  };
  await atomicWriteFile(join(dir, manifest.files.tiktoken), toTiktokenFile(tokenizer));
  await atomicWriteFile(join(dir, manifest.files.huggingface), JSON.stringify(toHfTokenizerJson(tokenizer)));
  await atomicWriteFile(join(dir, 'lmkit.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TokenizerError('TOKENIZER_BAD_FILE', `${path}: cannot read (${code ?? String(error)})`, {
      hint: code === 'ENOENT' ? 'check the path; a tokenizer directory holds lmkit.json, tokenizer.tiktoken and tokenizer.json' : 'check permissions',
      details: { file: path },
      cause: error,
    });
  }
}

/** Loads a directory written by {@link saveTokenizer}. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const manifestPath = join(dir, 'lmkit.json');
  const text = await readText(manifestPath);
  let m: Partial<TokenizerManifest>;
  try {
    m = JSON.parse(text);
  } catch (error) {
    throw badFile(manifestPath, undefined, 'json', `not valid JSON (${(error as Error).message})`);
  }
  if (m.format !== 'lmkit-tokenizer') throw badFile(manifestPath, 2, 'format', `expected "lmkit-tokenizer", got ${JSON.stringify(m.format)}`);
  if (typeof m.pattern !== 'string') throw badFile(manifestPath, undefined, 'pattern', 'missing or not a string');
  if (typeof m.specialTokens !== 'object' || m.specialTokens === null) throw badFile(manifestPath, undefined, 'specialTokens', 'missing or not an object');
  const tiktokenPath = join(dir, m.files?.tiktoken ?? 'tokenizer.tiktoken');
  return parseTiktokenFile(await readText(tiktokenPath), {
    file: tiktokenPath,
    name: m.name ?? 'tokenizer',
    pattern: m.pattern,
    specialTokens: m.specialTokens,
  });
}

/**
 * Loads a tokenizer from a path: an lmkit directory, a `.tiktoken` file (pattern and special
 * tokens from `options`), a Hugging Face `tokenizer.json`, or a minbpe `.model`.
 */
export async function loadTokenizerFile(path: string, options: Omit<TiktokenFileOptions, 'file'> = {}): Promise<Tokenizer> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) return loadTokenizer(path);
  const text = await readText(path);
  if (path.endsWith('.tiktoken')) return parseTiktokenFile(text, { ...options, file: path });
  if (path.endsWith('.model')) return parseMinbpeModel(text, { file: path, ...(options.name ? { name: options.name } : {}) });
  if (path.endsWith('.json')) return parseHfTokenizerJson(text, { file: path, ...(options.name ? { name: options.name } : {}) });
  throw new TokenizerError('TOKENIZER_BAD_FILE', `${path}: unknown tokenizer file type`, {
    hint: 'use a directory from `lmkit tokenizer train`, a .tiktoken, a tokenizer.json or a minbpe .model',
    details: { file: path },
  });
}

/** Writes a minbpe `.model` file atomically. */
export async function saveMinbpeModel(tokenizer: Tokenizer, path: string): Promise<void> {
  await atomicWriteFile(path, toMinbpeModel(tokenizer));
}
