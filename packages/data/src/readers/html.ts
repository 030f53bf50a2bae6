// HTML reader: one page per file, turned into its main text.
import { basename } from 'node:path';
import { decodeUtf8, decodedBytes, TruncatedInput } from './lines.js';
import { htmlToText, decodeEntities } from './html-text.js';
import type { ReadItem, ReaderOptions } from './record.js';

/** The page's `<title>`, decoded, if it has one. */
export function htmlTitle(html: string): string | undefined {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  return match ? decodeEntities(match[1]!.replace(/\s+/g, ' ').trim()) : undefined;
}

/** Streams the one document of an `.html` file (optionally `.gz`/`.zst`): its main text, with the title in `meta`. */
export async function* readHtml(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  if ((options.resumeFrom ?? 0) > 0) return;
  const name = basename(path);
  const parts: Uint8Array[] = [];
  try {
    for await (const chunk of decodedBytes(path, 0, options.chunkSize)) parts.push(chunk);
  } catch (error) {
    if (!(error instanceof TruncatedInput)) throw error;
    yield { kind: 'bad', reason: 'truncated_input', message: error.message, location: `${name}:end`, pos: 0, next: 1 };
    return;
  }
  const html = decodeUtf8(Buffer.concat(parts));
  if (html === undefined) {
    yield { kind: 'bad', reason: 'invalid_utf8', message: 'file is not valid UTF-8', location: `${name}:1`, pos: 0, next: 1 };
    return;
  }
  const title = htmlTitle(html);
  const meta: Record<string, unknown> = { source: name };
  if (title !== undefined) meta.title = title;
  yield { kind: 'doc', doc: { id: name, text: htmlToText(html), meta }, location: `${name}:1`, pos: 0, next: 1 };
}
