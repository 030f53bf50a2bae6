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
  // Heap entries: key = rank·2^32 + part start (one number orders by rank, then leftmost), and the
  // part's version when pushed (the entry is stale if the part changed since).
  const SHIFT = 4294967296;
  let size = 0;
  let hk = new Float64Array(n);
  let hv = new Int32Array(n);
  const push = (rank: number, pos: number): void => {
    if (size === hk.length) {
      const k2 = new Float64Array(size * 2), v2 = new Int32Array(size * 2);
      k2.set(hk), v2.set(hv);
      hk = k2, hv = v2;
    }
    const key = rank * SHIFT + pos;
    const ver = version[pos];
    let k = size++;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (hk[parent] <= key) break;
      hk[k] = hk[parent], hv[k] = hv[parent];
      k = parent;
    }
    hk[k] = key, hv[k] = ver;
  };
  const pop = (): void => {
    size--;
    if (size === 0) return;
    const key = hk[size], ver = hv[size];
    let k = 0;
    for (;;) {
      let c = 2 * k + 1;
      if (c >= size) break;
      if (c + 1 < size && hk[c + 1] < hk[c]) c++;
      if (hk[c] >= key) break;
      hk[k] = hk[c], hv[k] = hv[c];
      k = c;
    }
    hk[k] = key, hv[k] = ver;
  };
  // Every part is a token, so a pair is looked up by its two ranks; the string lookup runs once per distinct pair.
  const partRank = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rankOf.get(String.fromCharCode(piece[i]));
    if (r === undefined) throw new Error(`no rank for byte 0x${piece[i].toString(16)}`);
    partRank[i] = r;
  }
  const memo = new Map<number, Map<number, number>>();
  const pairRank = (i: number): number | undefined => {
    const j = next[i];
    if (j < 0) return undefined;
    const left = partRank[i], right = partRank[j];
    let row = memo.get(left);
    if (row === undefined) memo.set(left, (row = new Map()));
    let r = row.get(right);
    if (r === undefined) {
      r = rankOf.get(buf.toString('latin1', i, end[j])) ?? -1;
      row.set(right, r);
    }
    return r < 0 ? undefined : r;
  };
  for (let i = 0; i + 1 < n; i++) {
    const r = pairRank(i);
    if (r !== undefined) push(r, i);
  }
  while (size > 0) {
    const hrTop = Math.floor(hk[0] / SHIFT);
    const pos = hk[0] - hrTop * SHIFT;
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
    partRank[pos] = hrTop;
    const r = pairRank(pos);
    if (r !== undefined) push(r, pos);
    const p = prev[pos];
    if (p >= 0) {
      version[p]++;
      const rp = pairRank(p);
      if (rp !== undefined) push(rp, p);
    }
  }
  for (let i = 0; i >= 0; i = next[i]) out.push(partRank[i]);
}
