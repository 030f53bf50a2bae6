// Top-k: keeps the k highest logits and forbids the rest (ties at the k-th value are kept, as in HF).
import type { LogitsProcessor } from './processor.js';

/** The k-th largest value of `values` (1-based k), by partial selection. */
export function kthLargest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  // NOTE: quickselect in descending order; average O(V), no full sort per generated token.
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/** Keeps the `k` most likely tokens (k ≤ 0 or k ≥ vocab: no-op). */
export function topKProcessor(k: number): LogitsProcessor {
  return {
    name: 'top_k',
    process(logits) {
      if (k <= 0 || k >= logits.length) return;
      const threshold = kthLargest(logits, k);
      for (let i = 0; i < logits.length; i++) if (logits[i] < threshold) logits[i] = -Infinity;
    },
  };
}
