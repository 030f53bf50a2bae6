// Runs a Deduplicator's three phases in one process over in-memory shards: for tests, small corpora and the CLI's single-machine path.
import type { Deduplicator, Document, Drop } from '../types.js';
import { isDrop } from '../types.js';
import type { SpanDeduplicator } from './sentence-dedup.js';

/** One shard: the documents of one rank, each with its global key. */
export type KeyedShard = ReadonlyArray<{ key: bigint; doc: Document }>;

/** Result of {@link runDeduplicator}. */
export interface DedupRunResult {
  /** The surviving documents of each rank, in input order (possibly edited by span dedup). */
  kept: Document[][];
  /** Keys removed (or dropped after span removal), sorted. */
  removedKeys: bigint[];
  /** What phase 2 reported. */
  cluster: { removed: number; clusters: number };
}

async function* iterate(shard: KeyedShard): AsyncGenerator<{ key: bigint; doc: Document }> {
  yield* shard;
}

/** Runs signatures (every rank) → cluster (once) → filter (every rank) in `workDir`. */
export async function runDeduplicator(dedup: Deduplicator, shards: readonly KeyedShard[], workDir: string): Promise<DedupRunResult> {
  for (let rank = 0; rank < shards.length; rank++) await dedup.signatures(iterate(shards[rank]), workDir, rank);
  const cluster = await dedup.cluster(workDir, shards.length);
  const kept: Document[][] = [];
  const removedKeys: bigint[] = [];
  for (let rank = 0; rank < shards.length; rank++) {
    const out: Document[] = [];
    if ('loadFilter' in dedup) {
      const filter = await (dedup as SpanDeduplicator).loadFilter(workDir, rank);
      for (const { key, doc } of shards[rank]) {
        const r: Document | Drop = filter(key, doc);
        if (isDrop(r)) removedKeys.push(key);
        else out.push(r);
      }
    } else {
      const isDup = await dedup.loadRemovals(workDir, rank);
      for (const { key, doc } of shards[rank]) {
        if (isDup(key)) removedKeys.push(key);
        else out.push(doc);
      }
    }
    kept.push(out);
  }
  removedKeys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { kept, removedKeys, cluster };
}
