// Splits a list of input files across ranks: splittable files by byte range, the others whole, round-robin.
import { stat } from 'node:fs/promises';
import { DataError } from '../errors.js';
import { isSplittable } from './formats.js';

/** One unit of input work for a rank: a whole file, or a byte range of a splittable one. */
export interface InputSlice {
  /** Index of the file in the pipeline's input list (part of every document's global key). */
  fileIndex: number;
  path: string;
  /** Byte range `[start, end)` for splittable files; absent means the whole file. */
  range?: { start: number; end: number };
  /** Bytes this slice covers (for progress). */
  bytes: number;
}

/** The byte range of rank `rank` out of `worldSize` for a file of `size` bytes (before snapping to records). */
export function byteRange(size: number, rank: number, worldSize: number): { start: number; end: number } {
  return { start: Math.floor((size * rank) / worldSize), end: Math.floor((size * (rank + 1)) / worldSize) };
}

/**
 * The slices rank `rank` reads. Every splittable file is cut into `worldSize` byte ranges (rank r
 * reads range r; readers snap to record boundaries so each record is read exactly once); every other
 * file goes whole to rank `fileIndex % worldSize`.
 */
export async function planSlices(inputs: readonly string[], rank: number, worldSize: number): Promise<InputSlice[]> {
  if (!Number.isInteger(worldSize) || worldSize < 1 || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new DataError('DATA_BAD_RANK', `rank ${rank} is not in [0, ${worldSize})`, { hint: 'give 0 <= rank < worldSize' });
  }
  const slices: InputSlice[] = [];
  for (let fileIndex = 0; fileIndex < inputs.length; fileIndex++) {
    const path = inputs[fileIndex]!;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      throw new DataError('DATA_INPUT_NOT_FOUND', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`, { hint: 'check the path', details: { path }, cause: error });
    }
    if (isSplittable(path)) {
      const range = byteRange(size, rank, worldSize);
      if (range.end > range.start || (size === 0 && rank === 0)) slices.push({ fileIndex, path, range, bytes: range.end - range.start });
    } else if (fileIndex % worldSize === rank) slices.push({ fileIndex, path, bytes: size });
  }
  return slices;
}
