// Plain-text reader: a whole file as one document, or each blank-line-separated block as one.
import { basename } from 'node:path';
import { decodeUtf8, decodedBytes, splitLines, TruncatedInput } from './lines.js';
import type { ReadItem, ReaderOptions } from './record.js';

/**
 * Streams the documents of a `.txt` file (optionally `.gz`/`.zst`). In `"file"` mode the position is 0;
 * in `"paragraph"` mode it is the block's index, and `resumeFrom` skips that many blocks.
 */
export async function* readText(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  const name = basename(path);
  const skip = options.resumeFrom ?? 0;
  try {
    if ((options.txtMode ?? 'file') === 'file') {
      if (skip > 0) return;
      const parts: Uint8Array[] = [];
      for await (const chunk of decodedBytes(path, 0, options.chunkSize)) parts.push(chunk);
      const text = decodeUtf8(Buffer.concat(parts));
      if (text === undefined) yield { kind: 'bad', reason: 'invalid_utf8', message: 'file is not valid UTF-8', location: `${name}:1`, pos: 0, next: 1 };
      else yield { kind: 'doc', doc: { id: name, text, meta: { source: name } }, location: `${name}:1`, pos: 0, next: 1 };
      return;
    }
    let block: string[] = [];
    let blockLine = 0;
    let index = 0;
    let badBlock = false;
    let lineNo = 0;
    const flush = function* (): Generator<ReadItem> {
      if (block.length === 0 && !badBlock) return;
      const pos = index++;
      const location = `${name}:${blockLine}`;
      if (pos >= skip) {
        if (badBlock) yield { kind: 'bad', reason: 'invalid_utf8', message: 'paragraph is not valid UTF-8', location, pos, next: pos + 1 };
        else yield { kind: 'doc', doc: { id: `${name}:${pos}`, text: block.join('\n'), meta: { source: name, line: blockLine } }, location, pos, next: pos + 1 };
      }
      block = [];
      badBlock = false;
    };
    for await (const raw of splitLines(decodedBytes(path, 0, options.chunkSize))) {
      lineNo++;
      const text = decodeUtf8(raw.bytes);
      const line = text === undefined ? undefined : text.replace(/\r$/, '');
      if (line !== undefined && line.trim() === '') {
        yield* flush();
        continue;
      }
      if (block.length === 0 && !badBlock) blockLine = lineNo;
      if (line === undefined) badBlock = true;
      else block.push(line);
    }
    yield* flush();
  } catch (error) {
    if (!(error instanceof TruncatedInput)) throw error;
    yield { kind: 'bad', reason: 'truncated_input', message: error.message, location: `${name}:end`, pos: Number.MAX_SAFE_INTEGER, next: Number.MAX_SAFE_INTEGER };
  }
}
