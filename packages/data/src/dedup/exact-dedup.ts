// Exact document de-duplication: 64-bit xxhash of the (optionally normalized) text, keeping the lowest global key.
import { join } from 'node:path';
import type { Deduplicator, Document } from '../types.js';
import { normalizeForDedup } from '../text/normalize.js';
import { loadXxhash } from '../text/hash.js';
import { clusterBuckets } from './minhash-dedup.js';
import { lowerBound, readRemovals, SignatureWriter } from './signature-files.js';

/** Options of {@link exactDeduplicator}. */
export interface ExactDedupOptions {
  /** Hash `normalizeForDedup(text)` instead of the raw text, so case/punctuation/number variants match. Default false (datatrove hashes the raw text). */
  normalize?: boolean;
  /** Signature records held in memory before a sorted run is written. Default 1 000 000. */
  maxRecordsInMemory?: number;
}

/** Whole-document exact de-duplication as a corpus-wide {@link Deduplicator} (one bucket, same phases as MinHash). */
export function exactDeduplicator(options: ExactDedupOptions = {}): Deduplicator {
  return {
    name: 'exact',
    async signatures(docs: AsyncIterable<{ key: bigint; doc: Document }>, workDir: string, rank: number): Promise<void> {
      const xx = await loadXxhash();
      const writer = new SignatureWriter(join(workDir, 'sigs'), 1, rank, options.maxRecordsInMemory);
      for await (const { key, doc } of docs) {
        const h = xx.h64(options.normalize ? normalizeForDedup(doc.text) : doc.text);
        await writer.add(0, Number(h >> 32n), Number(h & 0xffffffffn), key);
      }
      await writer.close();
    },
    cluster: (workDir: string, worldSize: number) => clusterBuckets(workDir, worldSize, 1),
    async loadRemovals(workDir: string, rank: number) {
      const { keys } = await readRemovals(workDir, rank);
      return (key: bigint) => {
        const i = lowerBound(keys, key);
        return i < keys.length && keys[i] === key;
      };
    },
  };
}
