// Hugging Face `tokenizer.json` for byte-level BPE: Split(pattern) + ByteLevel pre-tokenizer, ByteLevel decoder, ignore_merges.
import { badFile } from '../errors.js';
import { recoverMerges } from '../internal/merges.js';
import { RankTable } from '../internal/ranks.js';
import { GPT2_SPLIT_PATTERN } from '../pattern.js';
import { Tokenizer } from '../tokenizer.js';

/** GPT-2's bytes_to_unicode: printable characters stand for bytes (space → Ġ). */
const BYTE_TO_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const chars = new Array<string>(256);
  for (const b of bs) chars[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (chars[b] === undefined) chars[b] = String.fromCharCode(256 + n++);
  return chars;
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Prefix of the added tokens that fill id gaps (HF renumbers ids otherwise). */
export const RESERVED_TOKEN_PREFIX = '<|lmkit_reserved_';

function toUnicode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/**
 * The tokenizer as a Hugging Face `tokenizer.json` object (serialize with JSON.stringify). Loads
 * in HF `tokenizers` and gives the same ids: Split with the pattern (Isolated) then ByteLevel
 * without its own regex, merges recovered from the ranks, `ignore_merges: true` (whole pieces that
 * are tokens map directly, as in tiktoken), and id gaps filled with reserved special tokens.
 */
export function toHfTokenizerJson(tokenizer: Tokenizer): Record<string, unknown> {
  const ranks = tokenizer.ranks;
  const vocab: Record<string, number> = {};
  ranks.tokens.forEach((t, id) => {
    if (t !== undefined) vocab[toUnicode(t)] = id;
  });
  const merges = recoverMerges(ranks).map(({ left, right }) => [toUnicode(ranks.tokens[left]!), toUnicode(ranks.tokens[right]!)]);
  const added: { id: number; content: string }[] = [...tokenizer.specialTokens].map(([content, id]) => ({ id, content }));
  const taken = new Set(added.map((a) => a.id));
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    if (ranks.tokens[id] === undefined && !taken.has(id)) added.push({ id, content: `${RESERVED_TOKEN_PREFIX}${id}|>` });
  }
  added.sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: tokenizer.pattern }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges,
    },
  };
}

/** 1-based line of the first occurrence of `needle` in `text` (for error messages), if found. */
function lineOf(text: string, needle: string): number | undefined {
  const at = text.indexOf(needle);
  if (at < 0) return undefined;
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses a HF `tokenizer.json` holding a byte-level BPE; errors name the line and field. */
export function parseHfTokenizerJson(text: string, options: { file?: string; name?: string } = {}): Tokenizer {
  const file = options.file ?? '<tokenizer.json>';
  let json: Record<string, any>;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const pos = /position (\d+)/.exec(String((error as Error).message));
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw badFile(file, line, 'json', `not valid JSON (${(error as Error).message})`);
  }
  const model = json?.model;
  if (!model || typeof model !== 'object') throw badFile(file, undefined, 'model', 'missing');
  if (model.type !== 'BPE') throw badFile(file, lineOf(text, '"type"'), 'model.type', `expected "BPE", got ${JSON.stringify(model.type)}`, 'only byte-level BPE tokenizers can be loaded');
  if (!model.vocab || typeof model.vocab !== 'object') throw badFile(file, undefined, 'model.vocab', 'missing or not an object');
  const tokens: (Uint8Array | undefined)[] = [];
  for (const [piece, id] of Object.entries(model.vocab as Record<string, unknown>)) {
    const where = () => lineOf(text, JSON.stringify(piece));
    if (!Number.isInteger(id) || (id as number) < 0) throw badFile(file, where(), `model.vocab[${JSON.stringify(piece)}]`, `id must be a non-negative integer, got ${JSON.stringify(id)}`);
    const bytes = new Uint8Array(piece.length);
    let i = 0;
    for (const ch of piece) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b === undefined) throw badFile(file, where(), `model.vocab[${JSON.stringify(piece)}]`, `character ${JSON.stringify(ch)} is not a ByteLevel byte`, 'only ByteLevel (GPT-2 style) vocabularies are supported');
      bytes[i++] = b;
    }
    if (tokens[id as number] !== undefined) throw badFile(file, where(), `model.vocab[${JSON.stringify(piece)}]`, `id ${id} is used twice`);
    tokens[id as number] = bytes.subarray(0, i);
  }
  const specialTokens: Record<string, number> = {};
  const addedTokens = json.added_tokens ?? [];
  if (!Array.isArray(addedTokens)) throw badFile(file, lineOf(text, '"added_tokens"'), 'added_tokens', 'must be an array');
  addedTokens.forEach((t: any, i: number) => {
    if (typeof t?.content !== 'string' || !Number.isInteger(t?.id)) throw badFile(file, lineOf(text, '"added_tokens"'), `added_tokens[${i}]`, 'needs a string "content" and an integer "id"');
    if (t.content.startsWith(RESERVED_TOKEN_PREFIX)) return;
    if (tokens[t.id] !== undefined) {
      if (t.special) delete tokens[t.id]; // GPT-2's files list <|endoftext|> in both places
      else return;
    }
    specialTokens[t.content] = t.id;
  });
  return new Tokenizer({
    name: options.name ?? file.replace(/^.*[\\/]/, '').replace(/\.json$/, ''),
    pattern: patternOf(json.pre_tokenizer, file, text),
    ranks: new RankTable(Array.from(tokens)),
    specialTokens,
  });
}

function patternOf(pre: any, file: string, text: string): string {
  const line = lineOf(text, '"pre_tokenizer"');
  if (pre?.type === 'ByteLevel') {
    if (pre.use_regex === false) throw badFile(file, line, 'pre_tokenizer', 'ByteLevel without a regex has no split pattern');
    return GPT2_SPLIT_PATTERN;
  }
  if (pre?.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
    const split = pre.pretokenizers.find((p: any) => p?.type === 'Split');
    if (typeof split?.pattern?.Regex === 'string') return split.pattern.Regex;
    const bl = pre.pretokenizers.find((p: any) => p?.type === 'ByteLevel');
    if (bl && bl.use_regex !== false) return GPT2_SPLIT_PATTERN;
  }
  throw badFile(file, line, 'pre_tokenizer', 'expected ByteLevel, or Sequence[Split{Regex}, ByteLevel]', 'only byte-level BPE tokenizers can be loaded');
}
