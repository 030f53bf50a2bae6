// The `.tiktoken` rank file: one `base64(token bytes) rank` line per token, in rank order.
import { badFile } from '../errors.js';
import { fromBase64, toBase64 } from '../internal/bytes.js';
import { RankTable } from '../internal/ranks.js';
import { GPT4_SPLIT_PATTERN } from '../pattern.js';
import { Tokenizer } from '../tokenizer.js';

/**
 * The tokenizer's ranks as a `.tiktoken` file. For the OpenAI encodings this is byte-identical
 * to OpenAI's published files (see {@link OPENAI_TIKTOKEN_SHA256}). The file holds no pattern
 * and no special tokens; {@link saveTokenizer} keeps those in `lmkit.json`.
 */
export function toTiktokenFile(tokenizer: Tokenizer): string {
  const lines: string[] = [];
  const tokens = tokenizer.ranks.tokens;
  for (let rank = 0; rank < tokens.length; rank++) {
    const t = tokens[rank];
    if (t !== undefined) lines.push(`${toBase64(t)} ${rank}\n`);
  }
  return lines.join('');
}

/** What a `.tiktoken` file does not say and a tokenizer needs. */
export interface TiktokenFileOptions {
  /** Split pattern. Default {@link GPT4_SPLIT_PATTERN}. */
  pattern?: string;
  /** Special token → id. Default none. */
  specialTokens?: Record<string, number>;
  /** Tokenizer name. Default the file name. */
  name?: string;
  /** File name for error messages. Default "<.tiktoken>". */
  file?: string;
}

/** Parses a `.tiktoken` file; a bad line throws TOKENIZER_BAD_FILE naming the line and field. */
export function parseTiktokenFile(text: string, options: TiktokenFileOptions = {}): Tokenizer {
  const file = options.file ?? '<.tiktoken>';
  const tokens: (Uint8Array | undefined)[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '' && i === lines.length - 1) break;
    const parts = line.split(' ');
    if (parts.length !== 2) throw badFile(file, i + 1, 'line', `expected "<base64 token> <rank>", got ${JSON.stringify(line.slice(0, 60))}`);
    const bytes = fromBase64(parts[0]);
    if (bytes === undefined || bytes.length === 0) throw badFile(file, i + 1, 'token', `not valid base64: ${JSON.stringify(parts[0].slice(0, 40))}`);
    if (!/^\d+$/.test(parts[1])) throw badFile(file, i + 1, 'rank', `not a non-negative integer: ${JSON.stringify(parts[1])}`);
    const rank = Number(parts[1]);
    if (tokens[rank] !== undefined) throw badFile(file, i + 1, 'rank', `rank ${rank} appears twice`);
    if (seen.has(parts[0])) throw badFile(file, i + 1, 'token', `token ${parts[0]} appears twice`);
    seen.add(parts[0]);
    tokens[rank] = bytes;
  }
  if (tokens.length === 0) throw badFile(file, undefined, 'ranks', 'the file has no tokens');
  return new Tokenizer({
    name: options.name ?? file.replace(/^.*[\\/]/, '').replace(/\.tiktoken$/, ''),
    pattern: options.pattern ?? GPT4_SPLIT_PATTERN,
    ranks: new RankTable(Array.from(tokens)),
    specialTokens: options.specialTokens ?? {},
  });
}
