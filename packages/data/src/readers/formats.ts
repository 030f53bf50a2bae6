// Picks a reader from a file's extension and says which formats can be split by byte range.
import { DataError } from '../errors.js';
import { readHtml } from './html.js';
import { readJsonl } from './jsonl.js';
import { readParquet } from './parquet.js';
import type { ReadItem, ReaderOptions } from './record.js';
import { readText } from './text.js';
import { readWarc } from './warc.js';

/** The input formats lmkit reads. */
export type InputFormat = 'jsonl' | 'text' | 'parquet' | 'html' | 'warc';

/** The format of `path` from its extension (compression suffixes `.gz`/`.zst` are looked through). */
export function formatOf(path: string): InputFormat {
  const bare = path.replace(/\.(gz|zst)$/i, '').toLowerCase();
  if (/\.(jsonl|ndjson|json)$/.test(bare)) return 'jsonl';
  if (/\.(txt|text|md)$/.test(bare)) return 'text';
  if (/\.parquet$/.test(bare)) return 'parquet';
  if (/\.(html?|xhtml)$/.test(bare)) return 'html';
  if (/\.(warc|wet|arc)$/.test(bare)) return 'warc';
  throw new DataError('DATA_UNKNOWN_FORMAT', `${path}: unknown input format`, {
    hint: 'use .jsonl/.ndjson, .txt, .parquet, .html, .warc or .wet (optionally .gz or .zst)',
    details: { path },
  });
}

/** True when `path` can be read by byte range on record boundaries (uncompressed JSONL). */
export function isSplittable(path: string): boolean {
  return formatOf(path) === 'jsonl' && !/\.(gz|zst)$/i.test(path);
}

/**
 * Streams documents (and bad records) from any supported file.
 *
 * @example
 * for await (const item of readDocuments('corpus.jsonl.zst')) if (item.kind === 'doc') console.log(item.doc.text);
 */
export function readDocuments(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  if (options.range !== undefined && !isSplittable(path)) {
    throw new DataError('DATA_NOT_SPLITTABLE', `${path}: only uncompressed JSONL can be read by byte range`, { hint: 'decompress the file, or give it whole to one rank' });
  }
  switch (formatOf(path)) {
    case 'jsonl':
      return readJsonl(path, options);
    case 'text':
      return readText(path, options);
    case 'parquet':
      return readParquet(path, options);
    case 'html':
      return readHtml(path, options);
    case 'warc':
      return readWarc(path, options);
  }
}
