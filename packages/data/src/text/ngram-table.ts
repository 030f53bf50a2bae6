// An open-addressing hash table keyed by pairs of 26-bit ints (double-modulus n-gram hashes), reused without reallocating.

/**
 * Counts or deduplicates n-gram keys given as (h1, h2) pairs. `reset(n)` prepares it for up to `n`
 * distinct keys in O(1) amortized (a generation stamp instead of clearing), so a filter can reuse one
 * table for every document. NOTE: plain Map/Set would box each non-Smi key, which was ~3× slower.
 */
export class NGramTable {
  private k1 = new Int32Array(0);
  private k2 = new Int32Array(0);
  private counts = new Int32Array(0);
  private stamps = new Int32Array(0);
  private gen = 0;
  private mask = 0;

  /** Empties the table and sizes it for `n` keys (load factor ≤ 0.5). */
  reset(n: number): void {
    let cap = 16;
    while (cap < 2 * n) cap <<= 1;
    if (cap > this.stamps.length) {
      this.k1 = new Int32Array(cap);
      this.k2 = new Int32Array(cap);
      this.counts = new Int32Array(cap);
      this.stamps = new Int32Array(cap);
      this.gen = 0;
    }
    this.mask = Math.min(cap, this.stamps.length) - 1;
    if (++this.gen === 0x7fffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  /** Adds one occurrence of (a, b) and returns its count so far (1 for a new key). */
  add(a: number, b: number): number {
    const mask = this.mask;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      if (this.stamps[i] !== this.gen) {
        this.stamps[i] = this.gen;
        this.k1[i] = a;
        this.k2[i] = b;
        this.counts[i] = 1;
        return 1;
      }
      if (this.k1[i] === a && this.k2[i] === b) return ++this.counts[i];
      i = (i + 1) & mask;
    }
  }

  /** Current count of (a, b) (0 when absent). */
  count(a: number, b: number): number {
    const mask = this.mask;
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask;
    for (;;) {
      if (this.stamps[i] !== this.gen) return 0;
      if (this.k1[i] === a && this.k2[i] === b) return this.counts[i];
      i = (i + 1) & mask;
    }
  }
}
