// The rank table of a byte-level BPE: token bytes by rank, the reverse lookup, and tiktoken's compact form.
import { bytesKey, fromBase64, toBase64 } from './bytes.js';

/** Token bytes indexed by rank (ids may have gaps), with a lazy bytes → rank lookup. */
export class RankTable {
  /** `tokens[rank]` is the token's bytes, or undefined for a gap. */
  readonly tokens: (Uint8Array | undefined)[];
  private lookup: Map<string, number> | undefined;

  constructor(tokens: (Uint8Array | undefined)[]) {
    this.tokens = tokens;
  }

  /** One past the highest rank. */
  get size(): number {
    return this.tokens.length;
  }

  /** Number of ranks that hold a token. */
  get count(): number {
    let n = 0;
    for (const t of this.tokens) if (t !== undefined) n++;
    return n;
  }

  /** The bytes → rank map (keys are latin1 strings). */
  get byKey(): Map<string, number> {
    if (this.lookup === undefined) {
      const m = new Map<string, number>();
      this.tokens.forEach((t, rank) => {
        if (t !== undefined) m.set(bytesKey(t), rank);
      });
      this.lookup = m;
    }
    return this.lookup;
  }

  /** Single bytes (0-255) that have no rank; a byte-level BPE needs all of them. */
  missingBytes(): number[] {
    const missing: number[] = [];
    for (let b = 0; b < 256; b++) if (!this.byKey.has(String.fromCharCode(b))) missing.push(b);
    return missing;
  }

  /**
   * tiktoken's compact rank string (`! <first rank> <base64> <base64> ...`, one line per run of
   * consecutive ranks), which `new Tiktoken(...)` parses.
   */
  toCompact(): string {
    const runs: string[][] = [];
    let current: string[] | undefined;
    for (let rank = 0; rank < this.tokens.length; rank++) {
      const t = this.tokens[rank];
      if (t === undefined) {
        current = undefined;
        continue;
      }
      if (current === undefined) {
        current = ['!', String(rank)];
        runs.push(current);
      }
      current.push(toBase64(t));
    }
    return runs.map((r) => r.join(' ')).join('\n');
  }

  /** Parses tiktoken's compact rank string (as in `tiktoken/encoders/*.json`). */
  static fromCompact(text: string): RankTable {
    const tokens: (Uint8Array | undefined)[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      const parts = line.split(' ');
      const offset = Number(parts[1]);
      for (let i = 2; i < parts.length; i++) {
        const bytes = fromBase64(parts[i]);
        if (bytes === undefined) throw new Error(`bad base64 in compact ranks: ${parts[i]}`);
        tokens[offset + i - 2] = bytes;
      }
    }
    return new RankTable(tokens);
  }
}
