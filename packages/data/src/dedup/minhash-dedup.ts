// Near-duplicate removal with MinHash-LSH across shards and datasets (datatrove's 4-stage MinHash as the 3 Deduplicator phases).
import { join } from 'node:path';
import type { Deduplicator, Document } from '../types.js';
import { MinHasher, type MinHashOptions } from './minhasher.js';
import { lowerBound, mergeBucket, readRemovals, SignatureWriter, writeRemovals } from './signature-files.js';
import { UnionFind } from './union-find.js';

/** Options of {@link minhashDeduplicator}. */
export interface MinHashDedupOptions extends MinHashOptions {
  /** Signature records a rank holds in memory before writing a sorted run. Default 1 000 000 (~20 MB). */
  maxRecordsInMemory?: number;
}

/**
 * MinHash-LSH de-duplication. Phase 1 writes, per rank and band, sorted runs of (band hash, key);
 * phase 2 merges each band across all ranks, unions documents that share a band hash, and removes
 * every cluster member except the one with the lowest global key; phase 3 loads a rank's sorted
 * removal keys. Memory: bounded runs in phase 1; in phase 2 the heap over runs plus the union-find,
 * which holds only documents that have a duplicate.
 */
export function minhashDeduplicator(options: MinHashDedupOptions = {}): Deduplicator & { hasherOptions: MinHashOptions } {
  const numBuckets = options.numBuckets ?? 14;
  return {
    name: 'minhash',
    hasherOptions: options,
    async signatures(docs: AsyncIterable<{ key: bigint; doc: Document }>, workDir: string, rank: number): Promise<void> {
      const hasher = await MinHasher.create(options);
      const writer = new SignatureWriter(join(workDir, 'sigs'), numBuckets, rank, options.maxRecordsInMemory);
      const bands = new Uint32Array(2 * numBuckets);
      for await (const { key, doc } of docs) {
        if (!hasher.bandHashes(doc.text, bands)) continue;
        for (let b = 0; b < numBuckets; b++) await writer.add(b, bands[2 * b], bands[2 * b + 1], key);
      }
      await writer.close();
    },
    async cluster(workDir: string, worldSize: number) {
      return clusterBuckets(workDir, worldSize, numBuckets);
    },
    async loadRemovals(workDir: string, rank: number) {
      const { keys } = await readRemovals(workDir, rank);
      return (key: bigint) => {
        const i = lowerBound(keys, key);
        return i < keys.length && keys[i] === key;
      };
    },
  };
}

/** Phase 2 shared by whole-document deduplicators: union keys with equal hashes in any bucket, keep each cluster's lowest key. */
export async function clusterBuckets(workDir: string, worldSize: number, buckets: number): Promise<{ removed: number; clusters: number }> {
  const uf = new UnionFind();
  const rankOf = new Map<bigint, number>();
  for (let b = 0; b < buckets; b++) {
    let hi = -1;
    let lo = -1;
    let first = 0n;
    let firstRank = 0;
    for await (const r of mergeBucket(join(workDir, 'sigs'), b)) {
      if (r.hashHi === hi && r.hashLo === lo) {
        if (r.key !== first) {
          uf.union(first, r.key);
          rankOf.set(first, firstRank);
          rankOf.set(r.key, r.rank);
        }
      } else {
        hi = r.hashHi;
        lo = r.hashLo;
        first = r.key;
        firstRank = r.rank;
      }
    }
  }
  const byRank = new Map<number, Array<[bigint, number]>>();
  let removed = 0;
  for (const key of uf.nonRoots()) {
    const rank = rankOf.get(key)!;
    if (!byRank.has(rank)) byRank.set(rank, []);
    byRank.get(rank)!.push([key, 0]);
    removed++;
  }
  await writeRemovals(workDir, worldSize, byRank);
  return { removed, clusters: uf.clusterCount() };
}
