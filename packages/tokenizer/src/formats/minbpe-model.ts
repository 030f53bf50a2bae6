// minbpe's `.model` file: "minbpe v1", the pattern, the special tokens, then one "idx1 idx2" line per merge.
import { TokenizerError, badFile } from '../errors.js';
import { bytesKey } from '../internal/bytes.js';
import { recoverMerges } from '../internal/merges.js';
import { RankTable } from '../internal/ranks.js';
import { Tokenizer } from '../tokenizer.js';

/**
 * The tokenizer as a minbpe `.model` file. minbpe numbers the 256 bytes 0-255 and each merge
 * 256 + i, so this works for tokenizers trained here, not for OpenAI's (whose rank 0 is "!").
 */
export function toMinbpeModel(tokenizer: Tokenizer): string {
  const ranks = tokenizer.ranks;
  const unfit = (why: string) =>
    new TokenizerError('TOKENIZER_BAD_OPTION', `${tokenizer.name} cannot be written as a minbpe .model: ${why}`, {
      hint: 'save it as .tiktoken or tokenizer.json instead',
    });
  for (let b = 0; b < 256; b++) {
    const t = ranks.tokens[b];
    if (t === undefined || t.length !== 1 || t[0] !== b) throw unfit(`id ${b} is not the byte 0x${b.toString(16)}`);
  }
  const merges = recoverMerges(ranks);
  if (merges.length !== ranks.size - 256 || merges.some((m, i) => m.rank !== 256 + i)) throw unfit('its ids past 255 are not one merge each, in order');
  const lines = ['minbpe v1', tokenizer.pattern, String(tokenizer.specialTokens.size)];
  for (const [token, id] of tokenizer.specialTokens) {
    if (/\s/.test(token)) throw unfit(`special token ${JSON.stringify(token)} contains white space`);
    lines.push(`${token} ${id}`);
  }
  for (const m of merges) lines.push(`${m.left} ${m.right}`);
  return lines.join('\n') + '\n';
}

/** Parses a minbpe `.model` file; errors name the line and field. */
export function parseMinbpeModel(text: string, options: { file?: string; name?: string } = {}): Tokenizer {
  const file = options.file ?? '<.model>';
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'minbpe v1') throw badFile(file, 1, 'version', `expected "minbpe v1", got ${JSON.stringify(lines[0]?.slice(0, 40))}`);
  if (lines.length < 3) throw badFile(file, lines.length, 'header', 'file ends before the special-token count');
  const pattern = lines[1];
  const nSpecial = lines[2];
  if (!/^\d+$/.test(nSpecial)) throw badFile(file, 3, 'special token count', `not an integer: ${JSON.stringify(nSpecial)}`);
  const specialTokens: Record<string, number> = {};
  let i = 3;
  for (let k = 0; k < Number(nSpecial); k++, i++) {
    const m = /^(\S+) (\d+)$/.exec(lines[i] ?? '');
    if (!m) throw badFile(file, i + 1, 'special token', `expected "<token> <id>", got ${JSON.stringify(lines[i]?.slice(0, 60) ?? '(end of file)')}`);
    specialTokens[m[1]] = Number(m[2]);
  }
  const tokens: Uint8Array[] = [];
  const known = new Map<string, number>();
  for (let b = 0; b < 256; b++) tokens.push(Uint8Array.of(b)), known.set(String.fromCharCode(b), b);
  for (; i < lines.length; i++) {
    const m = /^(\d+) (\d+)$/.exec(lines[i]);
    if (!m) throw badFile(file, i + 1, 'merge', `expected "<id> <id>", got ${JSON.stringify(lines[i].slice(0, 60))}`);
    const a = tokens[Number(m[1])], b = tokens[Number(m[2])];
    if (a === undefined || b === undefined) throw badFile(file, i + 1, 'merge', `refers to id ${a === undefined ? m[1] : m[2]}, which is not defined before this line`);
    const merged = new Uint8Array(a.length + b.length);
    merged.set(a);
    merged.set(b, a.length);
    const key = bytesKey(merged);
    if (known.has(key)) throw badFile(file, i + 1, 'merge', `makes the same bytes as id ${known.get(key)}; ranks must be unique`);
    known.set(key, tokens.length);
    tokens.push(merged);
  }
  return new Tokenizer({
    name: options.name ?? file.replace(/^.*[\\/]/, '').replace(/\.model$/, ''),
    pattern,
    ranks: new RankTable(tokens),
    specialTokens,
  });
}
