// A per-text bitmap of claimed character positions, so overlap checks between PII matches stay linear.

/** Tracks which characters of a text already belong to a match. Allocates lazily on the first claim. */
export class SpanMask {
  private bits: Uint8Array | undefined;
  constructor(private readonly length: number) {}

  /** Claims [start, end) when none of it is claimed yet; returns false (claiming nothing) on overlap. */
  claim(start: number, end: number): boolean {
    this.bits ??= new Uint8Array(this.length);
    for (let i = start; i < end; i++) if (this.bits[i]) return false;
    this.bits.fill(1, start, end);
    return true;
  }
}
