// Sentence-span de-duplication (C4 / datatrove SentenceDedup): remove every repeated 3-sentence span, then drop documents left too short.
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { drop, type Deduplicator, type Document, type Drop } from '../types.js';
import { loadXxhash } from '../text/hash.js';
import { normalizeForDedup } from '../text/normalize.js';
import { splitSentences, type Span } from '../text/sentences.js';
import { splitWords } from '../text/words.js';
import { lowerBound, mergeBucket, readRemovals, SignatureWriter, writeRemovals } from './signature-files.js';

/** Options of {@link sentenceDeduplicator}; defaults are datatrove's. */
export interface SentenceDedupOptions {
  /** Sentences per span. Default 3. */
  nSentences?: number;
  /** After removal, drop documents with fewer words. Default 50. */
  minDocWords?: number;
  /** After removal, drop documents with fewer sentences. Default 3. */
  minNumSentences?: number;
  /** Signature records held in memory before a sorted run is written. Default 1 000 000. */
  maxRecordsInMemory?: number;
}

/** A deduplicator whose phase 3 edits documents instead of only dropping them. */
export interface SpanDeduplicator extends Deduplicator {
  /** Phase 3 for one rank: removes the duplicated spans of a document, or drops it when too little is left. */
  loadFilter(workDir: string, rank: number): Promise<(key: bigint, doc: Document) => Document | Drop>;
}

/**
 * Corpus-wide sentence-span de-duplication. Phase 1 hashes (xxh64) every window of `nSentences`
 * normalized sentences with its span index; phase 2 merges all ranks' sorted runs and marks every
 * occurrence of a span hash after the first (lowest key, then position) as a duplicate; phase 3
 * ({@link SpanDeduplicator.loadFilter}) removes the sentences those spans cover. `loadRemovals` is
 * not meaningful for span removal and throws `DATA_DEDUP_NEEDS_FILTER`.
 */
export function sentenceDeduplicator(options: SentenceDedupOptions = {}): SpanDeduplicator {
  const n = options.nSentences ?? 3;
  const minWords = options.minDocWords ?? 50;
  const minSentences = options.minNumSentences ?? 3;
  return {
    name: 'sentence_dedup',
    async signatures(docs: AsyncIterable<{ key: bigint; doc: Document }>, workDir: string, rank: number): Promise<void> {
      const xx = await loadXxhash();
      const writer = new SignatureWriter(join(workDir, 'sigs'), 1, rank, options.maxRecordsInMemory);
      for await (const { key, doc } of docs) {
        const spans = splitSentences(doc.text);
        if (spans.length < n) continue;
        const norm = spans.map((s) => normalizeForDedup(doc.text.slice(s.start, s.end)));
        for (let i = 0; i + n <= norm.length; i++) {
          const h = xx.h64(norm.slice(i, i + n).join(' '));
          await writer.add(0, Number(h >> 32n), Number(h & 0xffffffffn), key, i);
        }
      }
      await writer.close();
    },
    async cluster(workDir: string, worldSize: number) {
      const byRank = new Map<number, Array<[bigint, number]>>();
      let removed = 0;
      let clusters = 0;
      let hi = -1;
      let lo = -1;
      let inGroup = false;
      for await (const r of mergeBucket(join(workDir, 'sigs'), 0)) {
        if (r.hashHi === hi && r.hashLo === lo) {
          if (!inGroup) clusters++;
          inGroup = true;
          if (!byRank.has(r.rank)) byRank.set(r.rank, []);
          byRank.get(r.rank)!.push([r.key, r.aux]);
          removed++;
        } else {
          hi = r.hashHi;
          lo = r.hashLo;
          inGroup = false;
        }
      }
      await writeRemovals(workDir, worldSize, byRank);
      return { removed, clusters };
    },
    async loadRemovals(): Promise<(key: bigint) => boolean> {
      throw new DataError('DATA_DEDUP_NEEDS_FILTER', 'sentence_dedup removes spans inside documents, not whole documents', {
        hint: 'call loadFilter(workDir, rank) and apply it to each (key, document)',
      });
    },
    async loadFilter(workDir: string, rank: number) {
      const { keys, aux } = await readRemovals(workDir, rank);
      return (key: bigint, doc: Document): Document | Drop => {
        let i = lowerBound(keys, key);
        if (i >= keys.length || keys[i] !== key) return doc;
        const spans = splitSentences(doc.text);
        const removedSentence = new Uint8Array(spans.length);
        for (; i < keys.length && keys[i] === key; i++) for (let k = 0; k < n; k++) if (aux[i] + k < spans.length) removedSentence[aux[i] + k] = 1;
        const text = keepSentences(doc.text, spans, removedSentence);
        const left = spans.length - removedSentence.reduce((a, b) => a + b, 0);
        if (left < minSentences) return drop('sentence_dedup_few_sentences', left);
        const words = splitWords(text).length;
        if (words < minWords) return drop('sentence_dedup_few_words', words);
        return { ...doc, text };
      };
    },
  };
}

/** Rebuilds a text from its kept sentences, keeping the original separator before each kept sentence. */
export function keepSentences(text: string, spans: readonly Span[], removed: Uint8Array): string {
  let out = '';
  for (let i = 0; i < spans.length; i++) {
    if (removed[i]) continue;
    if (out.length > 0) out += text.slice(spans[i - 1]?.end ?? 0, spans[i].start) || ' ';
    out += text.slice(spans[i].start, spans[i].end);
  }
  return out;
}
