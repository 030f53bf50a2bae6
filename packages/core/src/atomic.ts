// Atomic file writes: write to a temp file in the same directory, fsync, then rename over the target.
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one, never a
 * half-written file: temp file in the same directory, fsync, rename. Creates parent directories.
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
}

/** A stream whose file appears at `path` only when `commit()` is called; `abort()` removes it. */
export interface AtomicWriteStream {
  /** The underlying stream writing the temp file. */
  readonly stream: WriteStream;
  /** The temp file's path (for diagnostics). */
  readonly tempPath: string;
  /** Flushes, fsyncs and renames the temp file to the target path. */
  commit(): Promise<void>;
  /** Closes and deletes the temp file; the target is left untouched. */
  abort(): Promise<void>;
}

/** Opens an {@link AtomicWriteStream} for `path` (parent directories are created). */
export async function atomicWriteStream(path: string): Promise<AtomicWriteStream> {
  await mkdir(dirname(path), { recursive: true });
  const tempPath = tempPathFor(path);
  const stream = createWriteStream(tempPath);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  const closed = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (stream.closed) return resolve();
      stream.end(() => resolve());
      stream.once('error', reject);
    });
  return {
    stream,
    tempPath,
    async commit() {
      await closed();
      const handle = await open(tempPath, 'r+');
      await handle.sync();
      await handle.close();
      await rename(tempPath, path);
    },
    async abort() {
      await closed().catch(() => {});
      await rm(tempPath, { force: true });
    },
  };
}
