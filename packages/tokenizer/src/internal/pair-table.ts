// Open-addressing hash table from a token pair (a, b) to its count and the words that contain it.

/** Pair → count and word list, with typed-array storage (no per-pair objects). */
export class PairTable {
  private capacity = 1 << 16;
  private mask = this.capacity - 1;
  private used = 0;
  keyA = new Int32Array(this.capacity).fill(-1);
  keyB = new Int32Array(this.capacity);
  count = new Float64Array(this.capacity);
  /** Word indices that contain the pair (may hold duplicates and stale entries). */
  words: (number[] | undefined)[] = new Array(this.capacity);

  private static hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** The slot of (a, b), or -1 when absent. */
  find(a: number, b: number): number {
    let s = PairTable.hash(a, b) & this.mask;
    for (;;) {
      const ka = this.keyA[s];
      if (ka === -1) return -1;
      if (ka === a && this.keyB[s] === b) return s;
      s = (s + 1) & this.mask;
    }
  }

  /** The slot of (a, b), inserting it with count 0 when absent. */
  slot(a: number, b: number): number {
    let s = PairTable.hash(a, b) & this.mask;
    for (;;) {
      const ka = this.keyA[s];
      if (ka === -1) break;
      if (ka === a && this.keyB[s] === b) return s;
      s = (s + 1) & this.mask;
    }
    if ((this.used + 1) * 2 > this.capacity) {
      this.grow();
      return this.slot(a, b);
    }
    this.keyA[s] = a;
    this.keyB[s] = b;
    this.used++;
    return s;
  }

  /** Adds `delta` to the count of (a, b) and returns its slot. */
  add(a: number, b: number, delta: number): number {
    const s = this.slot(a, b);
    this.count[s] += delta;
    return s;
  }

  /** Records that word `w` contains (a, b). */
  addWord(s: number, w: number): void {
    const list = this.words[s];
    if (list === undefined) this.words[s] = [w];
    else if (list[list.length - 1] !== w) list.push(w);
  }

  private grow(): void {
    const { keyA, keyB, count, words } = this;
    this.capacity *= 2;
    this.mask = this.capacity - 1;
    this.keyA = new Int32Array(this.capacity).fill(-1);
    this.keyB = new Int32Array(this.capacity);
    this.count = new Float64Array(this.capacity);
    this.words = new Array(this.capacity);
    for (let s = 0; s < keyA.length; s++) {
      if (keyA[s] === -1) continue;
      let t = PairTable.hash(keyA[s], keyB[s]) & this.mask;
      while (this.keyA[t] !== -1) t = (t + 1) & this.mask;
      this.keyA[t] = keyA[s];
      this.keyB[t] = keyB[s];
      this.count[t] = count[s];
      this.words[t] = words[s];
    }
  }
}

/** Max-heap of (count, a, b): higher count first, then lower a, then lower b (deterministic ties). */
export class PairHeap {
  size = 0;
  private c = new Float64Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);

  private before(i: number, j: number): boolean {
    const ci = this.c[i], cj = this.c[j];
    if (ci !== cj) return ci > cj;
    if (this.a[i] !== this.a[j]) return this.a[i] < this.a[j];
    return this.b[i] < this.b[j];
  }

  private swap(i: number, j: number): void {
    const c = this.c[i], a = this.a[i], b = this.b[i];
    this.c[i] = this.c[j], this.a[i] = this.a[j], this.b[i] = this.b[j];
    this.c[j] = c, this.a[j] = a, this.b[j] = b;
  }

  push(count: number, a: number, b: number): void {
    if (this.size === this.c.length) {
      const n = this.size * 2;
      const c = new Float64Array(n), aa = new Int32Array(n), bb = new Int32Array(n);
      c.set(this.c), aa.set(this.a), bb.set(this.b);
      this.c = c, this.a = aa, this.b = bb;
    }
    let k = this.size++;
    this.c[k] = count, this.a[k] = a, this.b[k] = b;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.before(k, p)) break;
      this.swap(k, p);
      k = p;
    }
  }

  /** The top entry's count, a and b. */
  topCount(): number { return this.c[0]; }
  topA(): number { return this.a[0]; }
  topB(): number { return this.b[0]; }

  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    this.c[0] = this.c[n], this.a[0] = this.a[n], this.b[0] = this.b[n];
    let k = 0;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= n) break;
      const m = l + 1 < n && this.before(l + 1, l) ? l + 1 : l;
      if (!this.before(m, k)) break;
      this.swap(m, k);
      k = m;
    }
  }
}
