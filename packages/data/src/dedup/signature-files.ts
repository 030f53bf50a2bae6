// On-disk sorted signature runs and their k-way merge: the external sort behind every corpus-level deduplicator.
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { DataError } from '../errors.js';

/** Words per record: hash hi, hash lo, key hi, key lo, aux (e.g. a span index). 20 bytes, little-endian. */
export const RECORD_WORDS = 5;
const RECORD_BYTES = RECORD_WORDS * 4;

/** One signature record. */
export interface SignatureRecord {
  /** High and low 32 bits of the 64-bit signature hash. */
  hashHi: number;
  hashLo: number;
  /** The document's global key. */
  key: bigint;
  /** Extra payload (span index for sentence dedup, 0 otherwise). */
  aux: number;
  /** The rank whose run file held the record. */
  rank: number;
}

/**
 * Buffers signature records per bucket and writes each full buffer as a sorted run file
 * `<dir>/b<bucket>/r<rank>-<run>.sig`, so a rank's memory stays bounded by `maxRecords`.
 */
export class SignatureWriter {
  private readonly buffers: Uint32Array[];
  private readonly counts: number[];
  private run = 0;
  private total = 0;

  /**
   * @param dir signature directory (`<workDir>/sigs`)
   * @param buckets number of buckets (LSH bands)
   * @param rank this worker's rank
   * @param maxRecords records held in memory across buckets before a run is written (default 1 M ≈ 20 MB)
   */
  constructor(
    private readonly dir: string,
    private readonly buckets: number,
    private readonly rank: number,
    private readonly maxRecords = 1_000_000,
  ) {
    this.buffers = Array.from({ length: buckets }, () => new Uint32Array(1024 * RECORD_WORDS));
    this.counts = new Array(buckets).fill(0);
  }

  /** Adds one record to a bucket; flushes all buckets to sorted runs when the memory budget is reached. */
  async add(bucket: number, hashHi: number, hashLo: number, key: bigint, aux = 0): Promise<void> {
    let buf = this.buffers[bucket];
    const at = this.counts[bucket] * RECORD_WORDS;
    if (at + RECORD_WORDS > buf.length) {
      const bigger = new Uint32Array(buf.length * 2);
      bigger.set(buf);
      buf = this.buffers[bucket] = bigger;
    }
    buf[at] = hashHi;
    buf[at + 1] = hashLo;
    buf[at + 2] = Number(key >> 32n);
    buf[at + 3] = Number(key & 0xffffffffn);
    buf[at + 4] = aux;
    this.counts[bucket]++;
    if (++this.total >= this.maxRecords) await this.flush();
  }

  /** Writes every non-empty bucket buffer as a sorted run. */
  async flush(): Promise<void> {
    for (let b = 0; b < this.buckets; b++) {
      const n = this.counts[b];
      if (n === 0) continue;
      const sorted = sortRecords(this.buffers[b], n);
      await atomicWriteFile(join(this.dir, `b${b}`, `r${this.rank}-${this.run}.sig`), new Uint8Array(sorted.buffer, 0, n * RECORD_BYTES));
      this.counts[b] = 0;
    }
    this.run++;
    this.total = 0;
  }

  /** Flushes what is left and makes sure every bucket directory exists. */
  async close(): Promise<void> {
    await this.flush();
    for (let b = 0; b < this.buckets; b++) await mkdir(join(this.dir, `b${b}`), { recursive: true });
  }
}

/** Sorts `n` records by (hash, key, aux) and returns them packed in a new array. */
export function sortRecords(buf: Uint32Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => {
    const a = x * RECORD_WORDS;
    const b = y * RECORD_WORDS;
    for (let k = 0; k < RECORD_WORDS; k++) if (buf[a + k] !== buf[b + k]) return buf[a + k] < buf[b + k] ? -1 : 1;
    return 0;
  });
  const out = new Uint32Array(n * RECORD_WORDS);
  for (let i = 0; i < n; i++) out.set(buf.subarray(order[i] * RECORD_WORDS, order[i] * RECORD_WORDS + RECORD_WORDS), i * RECORD_WORDS);
  return out;
}

/** Reads a run file in large chunks (1 MiB): few syscalls, however small a record is. */
class RunReader {
  private buf = new Uint32Array(0);
  private pos = -RECORD_WORDS;
  private fileOffset = 0;
  private eof = false;
  constructor(private readonly handle: FileHandle, readonly rank: number, private readonly chunkRecords = 52_428) {}

  async next(): Promise<boolean> {
    this.pos += RECORD_WORDS;
    if (this.pos < this.buf.length) return true;
    if (this.eof) return false;
    const bytes = Buffer.alloc(this.chunkRecords * RECORD_BYTES);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, this.fileOffset);
    this.fileOffset += bytesRead;
    if (bytesRead < bytes.length) this.eof = true;
    const whole = bytesRead - (bytesRead % RECORD_BYTES);
    const aligned = new Uint8Array(whole);
    aligned.set(bytes.subarray(0, whole));
    this.buf = new Uint32Array(aligned.buffer);
    this.pos = 0;
    return this.buf.length > 0;
  }

  word(k: number): number {
    return this.buf[this.pos + k];
  }
}

function less(a: RunReader, b: RunReader): boolean {
  for (let k = 0; k < RECORD_WORDS; k++) {
    const x = a.word(k);
    const y = b.word(k);
    if (x !== y) return x < y;
  }
  return a.rank < b.rank;
}

/**
 * Streams every record of one bucket from all ranks' runs in sorted (hash, key, aux) order: a k-way
 * merge with a binary heap, memory O(number of runs × chunk).
 */
export async function* mergeBucket(dir: string, bucket: number): AsyncGenerator<SignatureRecord> {
  const bucketDir = join(dir, `b${bucket}`);
  let names: string[];
  try {
    names = (await readdir(bucketDir)).filter((f) => f.endsWith('.sig'));
  } catch {
    return;
  }
  const readers: RunReader[] = [];
  const handles: FileHandle[] = [];
  try {
    for (const name of names) {
      const h = await open(join(bucketDir, name), 'r');
      handles.push(h);
      const r = new RunReader(h, Number(/^r(\d+)-/.exec(name)?.[1] ?? 0));
      if (await r.next()) readers.push(r);
    }
    const heap = readers;
    const sift = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) sift(i);
    while (heap.length > 0) {
      const top = heap[0];
      yield {
        hashHi: top.word(0),
        hashLo: top.word(1),
        key: (BigInt(top.word(2)) << 32n) | BigInt(top.word(3)),
        aux: top.word(4),
        rank: top.rank,
      };
      if (!(await top.next())) {
        heap[0] = heap[heap.length - 1];
        heap.pop();
      }
      if (heap.length > 0) sift(0);
    }
  } finally {
    for (const h of handles) await h.close();
  }
}

/** Writes each rank's removal keys, sorted, to `<workDir>/remove/<rank>.bin` (u64 little-endian; aux in a parallel `.aux` file when given). */
export async function writeRemovals(workDir: string, worldSize: number, byRank: Map<number, Array<[bigint, number]>>): Promise<void> {
  for (let rank = 0; rank < worldSize; rank++) {
    const items = (byRank.get(rank) ?? []).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1]));
    const keys = new BigUint64Array(items.length);
    const aux = new Uint32Array(items.length);
    items.forEach(([k, a], i) => {
      keys[i] = k;
      aux[i] = a;
    });
    await atomicWriteFile(join(workDir, 'remove', `${rank}.bin`), new Uint8Array(keys.buffer));
    await atomicWriteFile(join(workDir, 'remove', `${rank}.aux`), new Uint8Array(aux.buffer));
  }
}

/** Loads a rank's sorted removal keys (and aux values) written by {@link writeRemovals}. */
export async function readRemovals(workDir: string, rank: number): Promise<{ keys: BigUint64Array; aux: Uint32Array }> {
  let k: Buffer;
  let a: Buffer;
  try {
    k = await readFile(join(workDir, 'remove', `${rank}.bin`));
    a = await readFile(join(workDir, 'remove', `${rank}.aux`));
  } catch (cause) {
    throw new DataError('DATA_DEDUP_NO_REMOVALS', `${join(workDir, 'remove', `${rank}.bin`)}: no removal file for rank ${rank}`, {
      hint: 'run the cluster phase (once, after every rank finished its signatures) with the same workDir and a worldSize above this rank',
      details: { workDir, rank },
      cause,
    });
  }
  const keys = new BigUint64Array(k.buffer.slice(k.byteOffset, k.byteOffset + k.byteLength));
  const aux = new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  return { keys, aux };
}

/** Index of the first element ≥ `key` in a sorted array. */
export function lowerBound(keys: BigUint64Array, key: bigint): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
