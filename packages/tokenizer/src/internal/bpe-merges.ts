// The incremental merge loop of BPE training: pair counts, pair→words index, and a lazy max-heap.
import { bytesKey } from './bytes.js';
import { PairHeap, PairTable } from './pair-table.js';

/** Distinct pre-tokenized words as byte strings with their counts. */
export interface WordCounts {
  /** Each word's bytes. */
  words: Uint8Array[];
  /** How often each word occurs. */
  counts: number[];
}

/** Options of {@link learnMerges}. */
export interface LearnOptions {
  /** Stop when the vocabulary (256 bytes + learned tokens) reaches this size. */
  targetTokens: number;
  /** Stop when the best pair occurs fewer times than this. */
  minFrequency: number;
  /** Called every `progressEvery` merges with the number of tokens so far. */
  onMerge?: (tokens: number) => void;
}

/**
 * Learns merges on deduplicated words: counts every adjacent pair once (weighted by word count),
 * then repeatedly takes the most frequent pair from a max-heap (stale entries are re-pushed with
 * their current count), re-merges only the words that contain it, and updates counts by ±deltas.
 * Returns the token bytes by id: 0-255 are the bytes, then one token per merge.
 */
export function learnMerges(input: WordCounts, options: LearnOptions): Uint8Array[] {
  const tokens: Uint8Array[] = [];
  const known = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    tokens.push(Uint8Array.of(b));
    known.set(String.fromCharCode(b), b);
  }
  const nWords = input.words.length;
  const syms: Int32Array[] = new Array(nWords);
  const lens = new Int32Array(nWords);
  const wc = Float64Array.from(input.counts);
  const table = new PairTable();
  for (let w = 0; w < nWords; w++) {
    const bytes = input.words[w];
    const s = Int32Array.from(bytes);
    syms[w] = s;
    lens[w] = s.length;
    const cnt = wc[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const slot = table.add(s[i], s[i + 1], cnt);
      table.addWord(slot, w);
    }
  }
  const heap = new PairHeap();
  for (let s = 0; s < table.keyA.length; s++) if (table.keyA[s] !== -1 && table.count[s] > 0) heap.push(table.count[s], table.keyA[s], table.keyB[s]);

  const seen = new Int32Array(nWords);
  let stamp = 0;
  const touched: number[] = [];
  const pushed = new Set<number>();
  while (tokens.length < options.targetTokens && heap.size > 0) {
    const a = heap.topA(), b = heap.topB(), top = heap.topCount();
    heap.pop();
    const slot = table.find(a, b);
    const current = slot < 0 ? 0 : table.count[slot];
    if (current !== top) {
      if (current > 0) heap.push(current, a, b);
      continue;
    }
    if (current < Math.max(1, options.minFrequency)) break;
    // The merged token: a new id, or the existing id when another merge already made these bytes.
    const ta = tokens[a], tb = tokens[b];
    const merged = new Uint8Array(ta.length + tb.length);
    merged.set(ta);
    merged.set(tb, ta.length);
    const key = bytesKey(merged);
    let c = known.get(key);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(merged);
      known.set(key, c);
    }
    const list = table.words[slot]!;
    table.words[slot] = undefined;
    table.count[slot] = 0;
    stamp++;
    touched.length = 0;
    for (let li = 0; li < list.length; li++) {
      const w = list[li];
      if (seen[w] === stamp) continue;
      seen[w] = stamp;
      const s = syms[w];
      const len = lens[w];
      const cnt = wc[w];
      let o = 0;
      let r = 0;
      while (r < len) {
        if (r + 1 < len && s[r] === a && s[r + 1] === b) {
          if (o > 0) {
            const x = s[o - 1];
            table.add(x, a, -cnt);
            const ns = table.add(x, c, cnt);
            table.addWord(ns, w);
            touched.push(x, c);
          }
          if (r + 2 < len) {
            const y = s[r + 2];
            table.add(b, y, -cnt);
            const ns = table.add(c, y, cnt);
            table.addWord(ns, w);
            touched.push(c, y);
          }
          s[o++] = c;
          r += 2;
        } else {
          s[o++] = s[r++];
        }
      }
      lens[w] = o;
    }
    // NOTE: (a, b) itself is fully merged away; its count was zeroed above and must stay zero.
    const ab = table.find(a, b);
    if (ab >= 0) table.count[ab] = 0;
    pushed.clear();
    for (let t = 0; t < touched.length; t += 2) {
      const ts = table.find(touched[t], touched[t + 1]);
      if (ts >= 0 && table.count[ts] > 0 && !pushed.has(ts)) {
        pushed.add(ts);
        heap.push(table.count[ts], touched[t], touched[t + 1]);
      }
    }
    options.onMerge?.(tokens.length);
  }
  return tokens;
}
