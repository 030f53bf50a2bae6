// HTML reader: one page per file, turned into its main text.
import { basename } from 'node:path';
import { decodeUtf8, decodedBytes, TruncatedInput } from './lines.js';
import { htmlToText, decodeEntities } from './html-text.js';
import type { ReadItem, ReaderOptions } from './record.js';

/** The charset a page declares: in a Content-Type header value, or a `<meta charset>` / `http-equiv` tag in its first 4 KiB. */
export function declaredCharset(bytes: Uint8Array, contentType = ''): string | undefined {
  const fromHeader = /charset\s*=\s*["']?([\w.:-]+)/i.exec(contentType)?.[1];
  if (fromHeader) return fromHeader.toLowerCase();
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1]?.toLowerCase();
}

// NOTE: Node 20's TextDecoder decodes windows-1252 as ISO-8859-1 (C1 controls instead of € “ ” …);
// the WHATWG mapping of 0x80–0x9F is applied by hand.
const CP1252_C1 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/**
 * Decodes an HTML page: in its declared charset when it names one other than UTF-8 (windows-1252,
 * Shift_JIS, ...), else as strict UTF-8; undefined when UTF-8 bytes are invalid.
 */
export function decodeHtml(bytes: Uint8Array, contentType = ''): string | undefined {
  const charset = declaredCharset(bytes, contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    try {
      const decoder = new TextDecoder(charset);
      const text = decoder.decode(bytes);
      return decoder.encoding === 'windows-1252' ? text.replace(/[\u0080-\u009f]/g, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]!) : text;
    } catch {
      // Unknown label: fall through to UTF-8.
    }
  }
  return decodeUtf8(bytes);
}

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
  const html = decodeHtml(Buffer.concat(parts));
  if (html === undefined) {
    yield { kind: 'bad', reason: 'invalid_utf8', message: 'file is not valid UTF-8 and declares no other charset', location: `${name}:1`, pos: 0, next: 1 };
    return;
  }
  const title = htmlTitle(html);
  const meta: Record<string, unknown> = { source: name };
  if (title !== undefined) meta.title = title;
  yield { kind: 'doc', doc: { id: name, text: htmlToText(html), meta }, location: `${name}:1`, pos: 0, next: 1 };
}
