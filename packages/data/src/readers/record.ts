// What a reader yields: a document or a bad record, each with its position in the file and where to resume after it.
import type { Document } from '../types.js';

/** A document read from a file. */
export interface ReadDoc {
  kind: 'doc';
  doc: Document;
  /** The record's ordinal in its file: byte offset for splittable formats (plain JSONL), record index otherwise. */
  pos: number;
  /** Human location, e.g. `corpus.jsonl:12`. */
  location: string;
  /** Pass as `resumeFrom` to continue right after this record. */
  next: number;
}

/** A record that could not become a document (bad JSON, invalid UTF-8, missing field, truncated file). */
export interface BadRecord {
  kind: 'bad';
  /** Stable reason, e.g. `bad_json`, `invalid_utf8`, `missing_text_field`, `truncated_input`. */
  reason: string;
  /** What exactly went wrong, for people. */
  message: string;
  pos: number;
  location: string;
  next: number;
  /** The start of the offending raw record (at most 1 000 chars), when there is one. */
  raw?: string;
}

/** One item of a reader's stream. */
export type ReadItem = ReadDoc | BadRecord;

/** Options every reader understands. */
export interface ReaderOptions {
  /** JSONL/Parquet field holding the text. Default `"text"`. */
  textField?: string;
  /** JSONL/Parquet field holding the id; absent → `<file>:<line>`. Default `"id"`. */
  idField?: string;
  /** `.txt`: one document per file (`"file"`, default) or per blank-line-separated block (`"paragraph"`). */
  txtMode?: 'file' | 'paragraph';
  /** Byte range `[start, end)` to read (splittable formats only); records are owned by the range holding their first byte. */
  range?: { start: number; end: number };
  /** Resume point returned as `next` by an earlier item: a byte offset (splittable) or a record count. Default: start. */
  resumeFrom?: number;
  /** Read buffer size in bytes. Default 1 MiB. */
  chunkSize?: number;
}

/** Trims raw text for an exclusion record. */
export function rawPreview(text: string): string {
  return text.length > 1000 ? text.slice(0, 1000) : text;
}
