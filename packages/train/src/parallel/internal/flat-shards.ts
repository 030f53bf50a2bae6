// Lays a list of parameters end to end in one flat buffer padded to a multiple of the world size, and cuts it into equal rank shards.

/** Where one parameter sits in the flat buffer. */
export interface FlatEntry {
  /** Index in the parameter list. */
  index: number;
  /** First element in the flat buffer. */
  offset: number;
  /** Number of elements. */
  size: number;
}

/** A parameter's slice that falls inside one shard. */
export interface ShardPiece {
  /** Index in the parameter list. */
  index: number;
  /** Start within the parameter. */
  from: number;
  /** End within the parameter (exclusive). */
  to: number;
  /** Start within the shard. */
  shardOffset: number;
}

/** The flat layout of `sizes` for `worldSize` ranks: total padded length and each rank's shard. */
export class FlatLayout {
  readonly entries: FlatEntry[];
  /** Unpadded element count Ψ. */
  readonly numel: number;
  /** Padded length, a multiple of worldSize. */
  readonly padded: number;
  /** Elements per shard. */
  readonly shardSize: number;

  constructor(sizes: readonly number[], readonly worldSize: number) {
    let at = 0;
    this.entries = sizes.map((size, index) => {
      const e = { index, offset: at, size };
      at += size;
      return e;
    });
    this.numel = at;
    this.shardSize = Math.ceil(at / worldSize);
    this.padded = this.shardSize * worldSize;
  }

  /** The parameter slices inside rank `r`'s shard [r·S, (r+1)·S). */
  pieces(r: number): ShardPiece[] {
    const s0 = r * this.shardSize;
    const s1 = s0 + this.shardSize;
    const out: ShardPiece[] = [];
    for (const e of this.entries) {
      const a = Math.max(s0, e.offset);
      const b = Math.min(s1, e.offset + e.size);
      if (a < b) out.push({ index: e.index, from: a - e.offset, to: b - e.offset, shardOffset: a - s0 });
    }
    return out;
  }

  /** Copies the arrays into `flat` (padding left as is). */
  pack(arrays: readonly Float32Array[], flat: Float32Array): void {
    for (const e of this.entries) flat.set(arrays[e.index], e.offset);
  }

  /** Copies `flat` back into the arrays. */
  unpack(flat: Float32Array, arrays: readonly Float32Array[]): void {
    for (const e of this.entries) arrays[e.index].set(flat.subarray(e.offset, e.offset + e.size));
  }
}
