// Incremental decoding of token ids that holds back incomplete UTF-8 sequences until they complete.

/**
 * Decodes ids as they arrive (e.g. while sampling) without ever emitting half of a multi-byte
 * character: bytes of an unfinished UTF-8 sequence are held until the next ids complete it.
 * Bytes that can never form a character come out as U+FFFD, as in {@link Tokenizer.decode}.
 *
 * @example
 * const d = enc.createDecoder();
 * for (const id of ids) process.stdout.write(d.push([id]));
 * process.stdout.write(d.flush());
 */
export class StreamingDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly toBytes: (ids: ArrayLike<number>) => Uint8Array;

  /** `toBytes` maps ids to their bytes (a tokenizer's decodeBytes). */
  constructor(toBytes: (ids: ArrayLike<number>) => Uint8Array) {
    this.toBytes = toBytes;
  }

  /** Adds ids and returns the text that is now complete (possibly ''). */
  push(ids: ArrayLike<number> | number): string {
    const bytes = this.toBytes(typeof ids === 'number' ? [ids] : ids);
    return this.decoder.decode(bytes, { stream: true });
  }

  /** Ends the stream: returns what is held back (an unfinished sequence becomes U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}
