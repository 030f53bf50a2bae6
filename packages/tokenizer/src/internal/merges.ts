// Recovers BPE merge pairs from a rank table by re-running BPE on each token with max_rank = its rank.
import { bytesKey } from './bytes.js';
import type { RankTable } from './ranks.js';

/**
 * For each multi-byte token (in rank order), the two tokens that BPE merges last to build it when
 * only lower ranks may merge — the merges list HF tokenizer.json and minbpe need. Tokens BPE can
 * never build from two parts (possible in hand-made vocabularies) get no merge.
 */
export function recoverMerges(ranks: RankTable): { rank: number; left: number; right: number }[] {
  const byKey = ranks.byKey;
  const out: { rank: number; left: number; right: number }[] = [];
  for (let rank = 0; rank < ranks.tokens.length; rank++) {
    const token = ranks.tokens[rank];
    if (token === undefined || token.length < 2) continue;
    // parts as [start, end) offsets; merge lowest-rank adjacent pair below `rank` until none is left.
    const bounds: number[] = [];
    for (let i = 0; i <= token.length; i++) bounds.push(i);
    for (;;) {
      let best = -1;
      let bestRank = rank;
      for (let i = 0; i + 2 < bounds.length; i++) {
        const r = byKey.get(bytesKey(token, bounds[i], bounds[i + 2]));
        if (r !== undefined && r < bestRank) (bestRank = r), (best = i);
      }
      if (best < 0) break;
      bounds.splice(best + 1, 1);
    }
    if (bounds.length !== 3) continue;
    const left = byKey.get(bytesKey(token, 0, bounds[1]));
    const right = byKey.get(bytesKey(token, bounds[1], token.length));
    if (left !== undefined && right !== undefined) out.push({ rank, left, right });
  }
  return out;
}
