// Union-find over document keys, where every cluster's root is its smallest key (the document that is kept).

/** Disjoint sets of bigint keys with path compression; the root of a set is its minimum key. */
export class UnionFind {
  private readonly parent = new Map<bigint, bigint>();

  /** The representative (smallest key) of `x`'s set; `x` itself when never united. */
  find(x: bigint): bigint {
    let root = x;
    for (let p = this.parent.get(root); p !== undefined && p !== root; p = this.parent.get(root)) root = p;
    while (x !== root) {
      const next = this.parent.get(x)!;
      this.parent.set(x, root);
      x = next;
    }
    return root;
  }

  /** Merges the sets of `a` and `b`; the smaller root becomes the root of both. */
  union(a: bigint, b: bigint): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (!this.parent.has(ra)) this.parent.set(ra, ra);
    if (!this.parent.has(rb)) this.parent.set(rb, rb);
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
  }

  /** Every united key that is not the root of its set (the duplicates to remove). */
  *nonRoots(): Generator<bigint> {
    for (const key of this.parent.keys()) if (this.find(key) !== key) yield key;
  }

  /** Number of sets with more than one key. */
  clusterCount(): number {
    let n = 0;
    for (const [key, p] of this.parent) if (p === key) n++;
    return n;
  }
}
