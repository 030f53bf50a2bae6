// JSONL reader: one JSON object per line (plain, .gz or .zst), text from a chosen field, bad lines reported not thrown.
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Document } from '../types.js';
import { compressionOf, decodeUtf8, decodedBytes, splitLines, TruncatedInput } from './lines.js';
import { rawPreview, type ReadItem, type ReaderOptions } from './record.js';

/** True when the byte offset `start` of `path` begins a line (offset 0, or the byte before is `\n`). */
async function startsLine(path: string, start: number): Promise<boolean> {
  if (start === 0) return true;
  const handle = await open(path, 'r');
  try {
    const byte = new Uint8Array(1);
    await handle.read(byte, 0, 1, start - 1);
    return byte[0] === 10;
  } finally {
    await handle.close();
  }
}

/** Counts the lines before `offset` (so the line holding `offset` is the result + 1); used only to name bad records. */
async function lineNumberAt(path: string, offset: number): Promise<number> {
  let lines = 0;
  let seen = 0;
  for await (const chunk of decodedBytes(path)) {
    const take = Math.min(chunk.length, offset - seen);
    let i = chunk.indexOf(10);
    while (i >= 0 && i < take) {
      lines++;
      i = chunk.indexOf(10, i + 1);
    }
    seen += take;
    if (seen >= offset) break;
  }
  return lines + 1;
}

/** Builds a Document from a parsed JSON record, or says why it cannot. */
export function recordToDocument(
  record: unknown,
  fallbackId: string,
  source: string,
  options: ReaderOptions,
): Document | { reason: string; message: string } {
  const textField = options.textField ?? 'text';
  const idField = options.idField ?? 'id';
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { reason: 'not_an_object', message: `expected a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}` };
  }
  const fields = record as Record<string, unknown>;
  const text = fields[textField];
  if (typeof text !== 'string') {
    return {
      reason: 'missing_text_field',
      message: text === undefined ? `no "${textField}" field (use --text-field to pick another)` : `"${textField}" is ${typeof text}, not a string`,
    };
  }
  const rawId = fields[idField];
  const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : fallbackId;
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) if (key !== textField && key !== idField) meta[key] = fields[key];
  if (meta.source === undefined) meta.source = source;
  return { id, text, meta };
}

/**
 * Streams the documents of a JSONL file. Plain files may be read by byte range (`options.range`):
 * a line belongs to the range that holds its first byte, so N ranks together read every line once.
 * The record position (`pos`) is the line's byte offset in the decompressed stream.
 */
export async function* readJsonl(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  const name = basename(path);
  const plain = compressionOf(path) === 'none';
  const rangeStart = options.range?.start ?? 0;
  const rangeEnd = options.range?.end ?? Infinity;
  if (!plain && (options.range !== undefined || (options.resumeFrom ?? 0) > 0) && rangeStart > 0) {
    throw new TypeError(`readJsonl: byte ranges need an uncompressed file, got ${path}`);
  }
  let begin = plain ? (options.resumeFrom ?? rangeStart) : 0;
  let skipFirst = plain && options.resumeFrom === undefined && !(await startsLine(path, begin));
  const skipUntil = plain ? 0 : (options.resumeFrom ?? 0); // compressed: resume by decompressed offset
  // NOTE: counting the newlines before `begin` costs one fast scan of the prefix, and buys exact
  // `file:line` locations for every rank and after every resume.
  let line = begin === 0 ? 0 : (await lineNumberAt(path, begin)) - 1;
  const where = (): string => `${name}:${line}`;
  let lastEnd = begin;
  try {
    for await (const raw of splitLines(decodedBytes(path, begin, options.chunkSize), begin)) {
      if (line >= 0) line++;
      lastEnd = raw.end;
      if (skipFirst) {
        skipFirst = false;
        continue;
      }
      if (raw.offset >= rangeEnd) return;
      if (raw.offset < skipUntil) continue;
      const text = decodeUtf8(raw.bytes);
      const base = { pos: raw.offset, next: raw.end };
      if (text === undefined) {
        yield { kind: 'bad', reason: 'invalid_utf8', message: 'line is not valid UTF-8', location: where(), ...base };
        continue;
      }
      if (text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (error) {
        yield { kind: 'bad', reason: 'bad_json', message: (error as Error).message, location: where(), raw: rawPreview(text), ...base };
        continue;
      }
      const doc = recordToDocument(record, `${name}:${raw.offset}`, name, options);
      if ('reason' in doc) {
        yield { kind: 'bad', reason: doc.reason, message: doc.message, location: where(), raw: rawPreview(text), ...base };
        continue;
      }
      yield { kind: 'doc', doc, location: where(), ...base };
    }
  } catch (error) {
    if (!(error instanceof TruncatedInput)) throw error;
    yield { kind: 'bad', reason: 'truncated_input', message: error.message, location: `${name}:end`, pos: lastEnd, next: Number.MAX_SAFE_INTEGER };
  }
}
