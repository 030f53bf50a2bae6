// The OpenAI encodings (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base) through the tiktoken package, cached and freeable.
import { createRequire } from 'node:module';
import { get_encoding, type TiktokenEncoding } from 'tiktoken';
import { TokenizerError } from './errors.js';
import { RankTable } from './internal/ranks.js';
import { Tokenizer } from './tokenizer.js';

/** Names accepted by {@link getEncoding}. */
export const ENCODING_NAMES = ['gpt2', 'r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'] as const;

/** One of {@link ENCODING_NAMES}. */
export type EncodingName = (typeof ENCODING_NAMES)[number];

/**
 * sha256 of OpenAI's published `.tiktoken` rank files (the `expected_hash` values in tiktoken's
 * `openai_public.py`); {@link toTiktokenFile} of an encoding reproduces them byte for byte.
 */
export const OPENAI_TIKTOKEN_SHA256: Readonly<Record<Exclude<EncodingName, 'gpt2'>, string>> = {
  r50k_base: '306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930',
  p50k_base: '94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069',
  cl100k_base: '223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7',
  o200k_base: '446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d',
};

interface EncoderJson {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

/** n_vocab of each encoding (ranks and special tokens), so vocabSize needs no rank loading. */
const VOCAB_SIZES: Record<EncodingName, number> = { gpt2: 50257, r50k_base: 50257, p50k_base: 50281, cl100k_base: 100277, o200k_base: 200019 };

const require = createRequire(import.meta.url);
const cache = new Map<EncodingName, Tokenizer>();

function encoderJson(name: EncodingName): EncoderJson {
  return require(`tiktoken/encoders/${name}.json`) as EncoderJson;
}

/**
 * An OpenAI encoding, backed by tiktoken's WASM core. Encoders are cached per name (one WASM
 * instance each, ~10-30 MB); {@link freeEncodings} releases them.
 *
 * @example
 * getEncoding('o200k_base').countTokens('Xin chào thế giới'); // 5
 */
export function getEncoding(name: EncodingName): Tokenizer {
  if (!(ENCODING_NAMES as readonly string[]).includes(name)) {
    throw new TokenizerError('TOKENIZER_UNKNOWN_ENCODING', `unknown encoding "${String(name)}"`, {
      hint: `use one of ${ENCODING_NAMES.join(', ')}`,
      details: { name },
    });
  }
  let tok = cache.get(name);
  if (tok === undefined) {
    const json = encoderJson(name);
    tok = new Tokenizer({
      name,
      pattern: json.pat_str,
      specialTokens: json.special_tokens,
      ranks: () => RankTable.fromCompact(encoderJson(name).bpe_ranks),
      core: () => get_encoding(name as TiktokenEncoding),
      vocabSize: VOCAB_SIZES[name],
    });
    cache.set(name, tok);
  }
  return tok;
}

/** Frees every cached encoding's WASM memory; later {@link getEncoding} calls create fresh ones. */
export function freeEncodings(): void {
  for (const tok of cache.values()) tok.free();
  cache.clear();
}
