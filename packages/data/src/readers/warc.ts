// WARC/WET reader (Common Crawl): parses records from plain or gzip-member-per-record files; WET text as is, WARC HTML to main text.
import { basename } from 'node:path';
import { decodedBytes, TruncatedInput } from './lines.js';
import { htmlToText } from './html-text.js';
import { decodeHtml } from './html.js';
import type { ReadItem, ReaderOptions } from './record.js';

/** One parsed WARC record: its headers (names lower-cased) and its payload bytes. */
export interface WarcRecord {
  headers: Record<string, string>;
  body: Uint8Array;
  /** Offset of the record's first byte in the decompressed stream. */
  offset: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Streams the records of a WARC or WET file (`.warc`, `.wet`, optionally `.gz` with one member per record). */
export async function* parseWarc(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<WarcRecord> {
  let buffer: Buffer = Buffer.alloc(0);
  let base = 0; // stream offset of buffer[0]
  const iterator = chunks[Symbol.asyncIterator]();
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const next = await iterator.next();
    if (next.done) {
      done = true;
      return false;
    }
    buffer = buffer.length === 0 ? Buffer.from(next.value) : Buffer.concat([buffer, next.value]);
    return true;
  };
  for (;;) {
    // Skip blank lines between records.
    let start = 0;
    while (start < buffer.length && (buffer[start] === 13 || buffer[start] === 10)) start++;
    if (start === buffer.length) {
      base += buffer.length;
      buffer = Buffer.alloc(0);
      if (!(await more())) return;
      continue;
    }
    let headerEnd = buffer.indexOf(CRLFCRLF, start);
    while (headerEnd < 0) {
      if (!(await more())) throw new TruncatedInput('WARC header is cut off');
      headerEnd = buffer.indexOf(CRLFCRLF, start);
    }
    const lines = buffer.subarray(start, headerEnd).toString('utf8').split('\r\n');
    if (!/^WARC\/\d/.test(lines[0] ?? '')) throw new TruncatedInput(`not a WARC record at byte ${base + start}: "${(lines[0] ?? '').slice(0, 40)}"`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length < 0) throw new TruncatedInput(`WARC record at byte ${base + start} has no valid Content-Length`);
    const bodyStart = headerEnd + 4;
    while (buffer.length < bodyStart + length) {
      if (!(await more())) throw new TruncatedInput(`WARC record at byte ${base + start} is cut off`);
    }
    yield { headers, body: buffer.subarray(bodyStart, bodyStart + length), offset: base + start };
    const consumed = bodyStart + length;
    base += consumed;
    buffer = buffer.subarray(consumed);
  }
}

/** Splits an HTTP response payload into its header block and body. */
function httpBody(payload: Uint8Array): { contentType: string; body: Uint8Array } {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const end = bytes.indexOf(CRLFCRLF);
  if (!bytes.subarray(0, 5).toString('latin1').startsWith('HTTP/') || end < 0) return { contentType: '', body: payload };
  const head = bytes.subarray(0, end).toString('latin1');
  const contentType = /^content-type:\s*(.*?)\s*$/im.exec(head)?.[1] ?? '';
  return { contentType: contentType.toLowerCase(), body: bytes.subarray(end + 4) };
}

/**
 * Streams documents from a WARC/WET file: `conversion` records (WET) give their text; `response`
 * records with an HTML payload give the page's main text; other records (warcinfo, request,
 * metadata) are skipped. The position is the record's index among all records; `resumeFrom` skips.
 */
export async function* readWarc(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  const name = basename(path);
  const skip = options.resumeFrom ?? 0;
  let index = 0;
  try {
    for await (const record of parseWarc(decodedBytes(path, 0, options.chunkSize))) {
      const pos = index++;
      if (pos < skip) continue;
      const type = record.headers['warc-type'];
      const url = record.headers['warc-target-uri'];
      const id = record.headers['warc-record-id']?.replace(/^<|>$/g, '') ?? `${name}:${pos}`;
      const location = `${name}:record ${pos} (byte ${record.offset})`;
      let text: string | undefined;
      if (type === 'conversion') text = Buffer.from(record.body).toString('utf8');
      else if (type === 'response') {
        const { contentType, body } = httpBody(record.body);
        // NOTE: web pages with broken UTF-8 are common; decode them leniently rather than lose the page.
        if (contentType === '' || contentType.includes('html')) text = htmlToText(decodeHtml(body, contentType) ?? Buffer.from(body).toString('utf8'));
      }
      if (text === undefined) continue;
      const meta: Record<string, unknown> = { source: name };
      if (url !== undefined) meta.url = url;
      if (record.headers['warc-date'] !== undefined) meta.date = record.headers['warc-date'];
      yield { kind: 'doc', doc: { id, text, meta }, location, pos, next: pos + 1 };
    }
  } catch (error) {
    if (!(error instanceof TruncatedInput)) throw error;
    yield { kind: 'bad', reason: 'truncated_input', message: error.message, location: `${name}:record ${index}`, pos: index, next: Number.MAX_SAFE_INTEGER };
  }
}
