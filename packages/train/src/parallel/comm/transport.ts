// The point-to-point layer under every communicator: tagged byte messages between ranks, in order per pair.

/**
 * Moves tagged byte messages between ranks. `recv(peer, tag)` resolves with the payload of the
 * message `peer` sent with that tag, whatever order messages with other tags arrive in.
 * Implementations: shared-memory channels (threads) and sockets (tcp).
 */
export interface Transport {
  /** This rank. */
  readonly rank: number;
  /** Number of ranks. */
  readonly worldSize: number;
  /** Sends `payload` to `peer` under `tag`; resolves once the transport has taken it (it may be reused). */
  send(peer: number, tag: string, payload: Uint8Array): Promise<void>;
  /** Resolves with the payload `peer` sent under `tag`; rejects with a CommError on timeout or a lost peer. */
  recv(peer: number, tag: string): Promise<Uint8Array>;
  /** Releases resources. */
  close(): Promise<void>;
}

/** A FIFO of messages by tag with waiters, shared by the transports: `deliver` from the wire, `take` from `recv`. */
export class Mailbox {
  private readonly messages = new Map<string, Uint8Array[]>();
  private readonly waiters = new Map<string, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[]>();
  private failure: Error | null = null;

  /** Hands a message that arrived to its waiter, or keeps it until someone asks. */
  deliver(tag: string, payload: Uint8Array): void {
    const w = this.waiters.get(tag);
    if (w && w.length > 0) {
      w.shift()!.resolve(payload);
      if (w.length === 0) this.waiters.delete(tag);
      return;
    }
    const q = this.messages.get(tag);
    if (q) q.push(payload);
    else this.messages.set(tag, [payload]);
  }

  /** Resolves with the next message under `tag`. */
  take(tag: string): Promise<Uint8Array> {
    const q = this.messages.get(tag);
    if (q && q.length > 0) {
      const m = q.shift()!;
      if (q.length === 0) this.messages.delete(tag);
      return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w = this.waiters.get(tag);
      if (w) w.push({ resolve, reject });
      else this.waiters.set(tag, [{ resolve, reject }]);
    });
  }

  /** Rejects every pending and future `take` that has no message waiting with `error`. */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const list of this.waiters.values()) for (const w of list) w.reject(error);
    this.waiters.clear();
  }

  /** Whether `fail` was called. */
  get failed(): Error | null {
    return this.failure;
  }
}
