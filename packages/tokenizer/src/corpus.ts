// Streams training text from files as byte chunks cut where no split piece can cross.
import { createReadStream } from 'node:fs';
import { TokenizerError } from './errors.js';

/** Options of {@link readCorpusFiles}. */
export interface ReadCorpusOptions {
  /** Target chunk size in bytes. Default 4 MiB. */
  chunkBytes?: number;
  /** Called after each chunk with the bytes read so far (all files). */
  onBytes?: (bytesRead: number) => void;
}

const isAsciiGraphic = (b: number | undefined): boolean => b !== undefined && b > 0x20 && b < 0x7f;

/**
 * The last offset in `buf` (≤ `limit`) just after "X\nY" with X and Y printable ASCII: a piece
 * boundary for the GPT-2, GPT-4 and o200k patterns, so training sees the same pieces as on the
 * whole file. Returns -1 if there is none.
 */
function safeCut(buf: Buffer, limit: number): number {
  for (let p = Math.min(limit, buf.length - 1); p >= 2; p--) {
    if (buf[p - 1] === 0x0a && isAsciiGraphic(buf[p - 2]) && isAsciiGraphic(buf[p])) return p;
  }
  return -1;
}

/**
 * Reads files as raw byte chunks for {@link trainBpe}: memory stays at a few chunks however large
 * the files are, and bytes are passed on exactly (invalid UTF-8 included). Each file ends a chunk.
 *
 * @example
 * const { tokenizer } = await trainBpe(readCorpusFiles(['a.txt', 'b.txt']), { vocabSize: 32000 });
 */
export async function* readCorpusFiles(paths: readonly string[], options: ReadCorpusOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkBytes = options.chunkBytes ?? 4 << 20;
  let total = 0;
  for (const path of paths) {
    let pending: Buffer = Buffer.alloc(0);
    const stream = createReadStream(path, { highWaterMark: Math.min(chunkBytes, 1 << 20) });
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        total += data.length;
        pending = pending.length ? Buffer.concat([pending, data]) : data;
        while (pending.length >= chunkBytes) {
          let cut = safeCut(pending, chunkBytes);
          // NOTE: text with no such line break for 4 chunks is cut anyway, at a space after a letter.
          if (cut < 0 && pending.length < chunkBytes * 4) break;
          if (cut < 0) cut = pending.lastIndexOf(0x20, chunkBytes) > 0 ? pending.lastIndexOf(0x20, chunkBytes) : chunkBytes;
          yield pending.subarray(0, cut);
          pending = pending.subarray(cut);
        }
        options.onBytes?.(total);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new TokenizerError('TOKENIZER_BAD_FILE', `${path}: cannot read (${code ?? String(error)})`, {
        hint: code === 'ENOENT' ? 'check the path' : 'check the file permissions',
        details: { file: path },
        cause: error,
      });
    }
    if (pending.length) yield pending;
  }
}
