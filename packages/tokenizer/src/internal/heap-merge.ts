// Byte-pair merge of one long piece in O(n log n): a min-heap of adjacent pairs keyed by rank, with lazy invalidation.
import { bytesKey } from './bytes.js';

/**
 * Encodes one pre-tokenized piece exactly as tiktoken does (repeatedly merge the adjacent pair
 * whose concatenation has the lowest rank, leftmost first), but with a heap instead of a scan per
 * merge, so a 50,000-byte piece takes milliseconds instead of seconds.
 *
 * `rankOf` maps a latin1 key of bytes to its rank. Every single byte must have a rank.
 */
export function heapMerge(piece: Uint8Array, rankOf: Map<string, number>, out: number[]): void {
  const n = piece.length;
  if (n === 0) return;
  const whole = rankOf.get(bytesKey(piece));
  if (whole !== undefined) {
    out.push(whole);
    return;
  }
  const buf = Buffer.from(piece.buffer, piece.byteOffset, n);
  // Parts form a linked list over start offsets; part i spans [i, end[i]).
  const end = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  const version = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    end[i] = i + 1;
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // Heap entries: rank, part start, and the part's version when pushed (stale if it changed).
  let size = 0;
  let hr = new Float64Array(n);
  let hp = new Int32Array(n);
  let hv = new Int32Array(n);
  const less = (x: number, y: number): boolean => hr[x] < hr[y] || (hr[x] === hr[y] && hp[x] < hp[y]);
  const swap = (x: number, y: number): void => {
    const r = hr[x], p = hp[x], v = hv[x];
    hr[x] = hr[y], hp[x] = hp[y], hv[x] = hv[y];
    hr[y] = r, hp[y] = p, hv[y] = v;
  };
  const push = (rank: number, pos: number): void => {
    if (size === hr.length) {
      const r2 = new Float64Array(size * 2), p2 = new Int32Array(size * 2), v2 = new Int32Array(size * 2);
      r2.set(hr), p2.set(hp), v2.set(hv);
      hr = r2, hp = p2, hv = v2;
    }
    let k = size++;
    hr[k] = rank, hp[k] = pos, hv[k] = version[pos];
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!less(k, parent)) break;
      swap(k, parent);
      k = parent;
    }
  };
  const pop = (): void => {
    size--;
    if (size === 0) return;
    hr[0] = hr[size], hp[0] = hp[size], hv[0] = hv[size];
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= size) break;
      const c = l + 1 < size && less(l + 1, l) ? l + 1 : l;
      if (!less(c, k)) break;
      swap(c, k);
      k = c;
    }
  };
  const pairRank = (i: number): number | undefined => {
    const j = next[i];
    return j < 0 ? undefined : rankOf.get(buf.toString('latin1', i, end[j]));
  };
  for (let i = 0; i + 1 < n; i++) {
    const r = pairRank(i);
    if (r !== undefined) push(r, i);
  }
  while (size > 0) {
    const pos = hp[0];
    const stale = hv[0] !== version[pos];
    pop();
    if (stale) continue;
    // Merge part `pos` with its successor.
    const j = next[pos];
    end[pos] = end[j];
    next[pos] = next[j];
    if (next[j] >= 0) prev[next[j]] = pos;
    version[j]++; // j is gone: its heap entries are stale
    version[pos]++;
    const r = pairRank(pos);
    if (r !== undefined) push(r, pos);
    const p = prev[pos];
    if (p >= 0) {
      version[p]++;
      const rp = pairRank(p);
      if (rp !== undefined) push(rp, p);
    }
  }
  for (let i = 0; i >= 0; i = next[i]) {
    const r = rankOf.get(buf.toString('latin1', i, end[i]));
    if (r === undefined) throw new Error(`no rank for bytes ${buf.subarray(i, end[i]).toString('hex')}`);
    out.push(r);
  }
}
