// Parquet reader: streams rows one row group at a time with hyparquet (all common codecs via hyparquet-compressors).
import { basename } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { recordToDocument } from './jsonl.js';
import type { ReadItem, ReaderOptions } from './record.js';

/** Streams the documents of a `.parquet` file; the position is the row index, and `resumeFrom` skips rows. */
export async function* readParquet(path: string, options: ReaderOptions = {}): AsyncGenerator<ReadItem> {
  const name = basename(path);
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  let rowStart = 0;
  const skip = options.resumeFrom ?? 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    if (rowEnd > skip) {
      const from = Math.max(rowStart, skip);
      const rows = await parquetReadObjects({ file, metadata, compressors, rowStart: from, rowEnd });
      for (let i = 0; i < rows.length; i++) {
        const pos = from + i;
        const location = `${name}:row ${pos}`;
        const doc = recordToDocument(rows[i], `${name}:${pos}`, name, options);
        if ('reason' in doc) yield { kind: 'bad', reason: doc.reason, message: doc.message, location, pos, next: pos + 1 };
        else yield { kind: 'doc', doc, location, pos, next: pos + 1 };
      }
    }
    rowStart = rowEnd;
  }
}
