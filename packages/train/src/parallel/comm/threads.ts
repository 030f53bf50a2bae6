// The threads backend: ranks in worker_threads (or one thread) exchanging messages through SharedArrayBuffer channels synchronized with Atomics.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { CommError, type Communicator } from '../communicator.js';
import { RingCommunicator } from './ring.js';
import type { Transport } from './transport.js';

/** Options for {@link createThreadGroup}. */
export interface ThreadGroupOptions {
  /** Bytes of each one-way channel between two ranks; longer messages go through in pieces. Default 1 MiB. */
  channelBytes?: number;
  /** A rank waiting longer than this for a peer fails with `TRAIN_COMM_TIMEOUT`. Default 120 000 ms. */
  timeoutMs?: number;
}

/**
 * The shared memory of a group of ranks: one single-producer/single-consumer channel per
 * ordered pair of ranks, and an abort word. Plain data, so it can be posted to worker threads.
 */
export interface ThreadGroup {
  /** Number of ranks. */
  readonly worldSize: number;
  /** Capacity of each channel in bytes. */
  readonly channelBytes: number;
  /** Wait limit in ms. */
  readonly timeoutMs: number;
  /** Int32 words: [0] = abort (0, or 1 + the rank that failed); then per channel [state, length, last, spare]. */
  readonly control: SharedArrayBuffer;
  /** Channel payload areas, channel c = src·N + dst at offset c·channelBytes. */
  readonly data: SharedArrayBuffer;
}

/** `Atomics.waitAsync` (V8 / Node ≥ 16), typed here because the ES2023 lib does not declare it. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

const CTRL = 4; // NOTE: int32 words per channel: state (0 empty / 1 full), byte length, last-piece flag, spare
const POLL_MS = 50;

/**
 * Allocates the shared memory for `worldSize` ranks.
 *
 * @example
 * const group = createThreadGroup(2);
 * const comms = [0, 1].map((r) => threadsCommunicator(group, r)); // two ranks in this thread
 */
export function createThreadGroup(worldSize: number, options: ThreadGroupOptions = {}): ThreadGroup {
  if (!(Number.isInteger(worldSize) && worldSize >= 1)) throw new CommError('TRAIN_COMM_BAD_ARGS', `worldSize must be a positive integer, got ${worldSize}`);
  const channelBytes = options.channelBytes ?? 1 << 20;
  const channels = worldSize * worldSize;
  return {
    worldSize,
    channelBytes,
    timeoutMs: options.timeoutMs ?? 120_000,
    control: new SharedArrayBuffer(4 * (1 + CTRL * channels)),
    data: new SharedArrayBuffer(channelBytes * channels),
  };
}

/** Marks the group failed because of `rank` and wakes every waiter, which then throws `TRAIN_COMM_PEER_LOST`. */
export function abortThreadGroup(group: ThreadGroup, rank: number): void {
  const ctrl = new Int32Array(group.control);
  Atomics.compareExchange(ctrl, 0, 0, rank + 1);
  for (let i = 0; i < ctrl.length; i++) Atomics.notify(ctrl, i);
}

/** Point-to-point messages over the group's shared channels (see {@link ThreadGroup}). */
class SharedMemoryTransport implements Transport {
  readonly worldSize: number;
  private readonly ctrl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly sendChain: Promise<void>[];
  private readonly readChain: Promise<void>[];
  private readonly inbox: Map<string, Uint8Array[]>[];
  private closed = false;

  constructor(
    private readonly group: ThreadGroup,
    readonly rank: number,
  ) {
    this.worldSize = group.worldSize;
    this.ctrl = new Int32Array(group.control);
    this.bytes = new Uint8Array(group.data);
    this.sendChain = Array.from({ length: this.worldSize }, () => Promise.resolve());
    this.readChain = Array.from({ length: this.worldSize }, () => Promise.resolve());
    this.inbox = Array.from({ length: this.worldSize }, () => new Map());
  }

  private base(src: number, dst: number): number {
    return 1 + CTRL * (src * this.worldSize + dst);
  }

  /** Waits until the channel's state word equals `want`; throws on abort, close or timeout. */
  private async waitState(idx: number, want: number, what: string): Promise<void> {
    const deadline = Date.now() + this.group.timeoutMs;
    for (;;) {
      const aborted = Atomics.load(this.ctrl, 0);
      if (aborted !== 0) {
        throw new CommError('TRAIN_COMM_PEER_LOST', `rank ${this.rank}: ${what} failed because rank ${aborted - 1} died or threw`, { hint: 'see the failing rank’s own error above', details: { failedRank: aborted - 1 } });
      }
      if (this.closed) throw new CommError('TRAIN_COMM_CLOSED', `rank ${this.rank}: ${what} after close()`);
      const now = Atomics.load(this.ctrl, idx);
      if (now === want) return;
      if (Date.now() > deadline) {
        throw new CommError('TRAIN_COMM_TIMEOUT', `rank ${this.rank}: ${what} waited more than ${this.group.timeoutMs} ms`, { hint: 'a peer is stuck or calls collectives in a different order; raise timeoutMs if steps are this slow' });
      }
      const w = waitAsync(this.ctrl, idx, now, POLL_MS);
      if (w.async) {
        // NOTE: a pending waitAsync does not keep Node's event loop alive; this timer does (until cleared), so a worker
        // cannot exit mid-wait even when a loaded machine resolves the wait late.
        const keepAlive = setTimeout(() => undefined, 3_600_000);
        await w.value;
        clearTimeout(keepAlive);
      }
    }
  }

  send(peer: number, tag: string, payload: Uint8Array): Promise<void> {
    const tagBytes = new TextEncoder().encode(tag);
    const msg = new Uint8Array(4 + tagBytes.length + payload.length);
    new DataView(msg.buffer).setUint32(0, tagBytes.length, true);
    msg.set(tagBytes, 4);
    msg.set(payload, 4 + tagBytes.length);
    const run = async (): Promise<void> => {
      const b = this.base(this.rank, peer);
      const off = (this.rank * this.worldSize + peer) * this.group.channelBytes;
      const cap = this.group.channelBytes;
      for (let at = 0; at < msg.length; ) {
        await this.waitState(b, 0, `send to rank ${peer} (${tag})`);
        const n = Math.min(cap, msg.length - at);
        this.bytes.set(msg.subarray(at, at + n), off);
        at += n;
        Atomics.store(this.ctrl, b + 1, n);
        Atomics.store(this.ctrl, b + 2, at >= msg.length ? 1 : 0);
        Atomics.store(this.ctrl, b, 1);
        Atomics.notify(this.ctrl, b);
      }
    };
    const p = this.sendChain[peer].then(run);
    this.sendChain[peer] = p.catch(() => undefined);
    return p;
  }

  /** Reads one whole message from `peer`'s channel into the inbox. */
  private async readOne(peer: number, tag: string): Promise<void> {
    const b = this.base(peer, this.rank);
    const off = (peer * this.worldSize + this.rank) * this.group.channelBytes;
    const pieces: Uint8Array[] = [];
    for (;;) {
      await this.waitState(b, 1, `recv from rank ${peer} (${tag})`);
      const n = Atomics.load(this.ctrl, b + 1);
      const last = Atomics.load(this.ctrl, b + 2) === 1;
      pieces.push(this.bytes.slice(off, off + n));
      Atomics.store(this.ctrl, b, 0);
      Atomics.notify(this.ctrl, b);
      if (last) break;
    }
    const msg = pieces.length === 1 ? pieces[0] : concat(pieces);
    const tagLen = new DataView(msg.buffer, msg.byteOffset).getUint32(0, true);
    const got = new TextDecoder().decode(msg.subarray(4, 4 + tagLen));
    const box = this.inbox[peer];
    const q = box.get(got);
    if (q) q.push(msg.subarray(4 + tagLen));
    else box.set(got, [msg.subarray(4 + tagLen)]);
  }

  recv(peer: number, tag: string): Promise<Uint8Array> {
    const box = this.inbox[peer];
    const run = async (): Promise<Uint8Array> => {
      for (;;) {
        const q = box.get(tag);
        if (q && q.length > 0) {
          const m = q.shift()!;
          if (q.length === 0) box.delete(tag);
          return m;
        }
        await this.readOne(peer, tag);
      }
    };
    const p = this.readChain[peer].then(run);
    this.readChain[peer] = p.then(() => undefined, () => undefined);
    return p;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The communicator of rank `rank` in `group`; ranks may live in one thread (the collectives
 * are async and wait with `Atomics.waitAsync`) or in separate worker threads.
 */
export function threadsCommunicator(group: ThreadGroup, rank: number): Communicator {
  if (!(Number.isInteger(rank) && rank >= 0 && rank < group.worldSize)) throw new CommError('TRAIN_COMM_BAD_ARGS', `rank must be in [0, ${group.worldSize}), got ${rank}`);
  return new RingCommunicator(new SharedMemoryTransport(group, rank), 'threads');
}

/**
 * Runs `fn(comm, rank)` for every rank of a fresh group in this thread, concurrently; if one
 * rank throws, the group is aborted so the others fail fast instead of waiting.
 *
 * @example
 * const sums = await runInProcess(2, async (comm) => { const a = new Float32Array([1]); await comm.allReduce(a); return a[0]; });
 */
export async function runInProcess<T>(worldSize: number, fn: (comm: Communicator, rank: number) => Promise<T>, options: ThreadGroupOptions = {}): Promise<T[]> {
  const group = createThreadGroup(worldSize, options);
  const comms = Array.from({ length: worldSize }, (_, r) => threadsCommunicator(group, r));
  try {
    return await Promise.all(comms.map((c, r) => fn(c, r).catch((e: unknown) => {
      abortThreadGroup(group, r);
      throw e;
    })));
  } finally {
    await Promise.all(comms.map((c) => c.close()));
  }
}

/** What a worker started by {@link spawnThreads} receives as `workerData`. */
interface ThreadWorkerData {
  group: ThreadGroup;
  rank: number;
  data: unknown;
}

/**
 * Starts `worldSize` worker threads running the ES module `entry`; each calls
 * {@link joinThreadGroup} to get its communicator and posts its result with `finish`.
 * Resolves with the results in rank order once every worker has exited; a worker that throws
 * or exits early aborts the group (the others get `TRAIN_COMM_PEER_LOST` at their next call)
 * and the promise rejects with the first error once all workers are gone.
 */
export function spawnThreads<T = unknown>(entry: string | URL, worldSize: number, options: ThreadGroupOptions & { /** Passed to every worker. */ data?: unknown } = {}): Promise<T[]> {
  const group = createThreadGroup(worldSize, options);
  const results = new Array<T>(worldSize);
  return new Promise((resolve, reject) => {
    let firstError: Error | null = null;
    let exited = 0;
    const workers: Worker[] = [];
    const fail = (rank: number, e: Error): void => {
      abortThreadGroup(group, rank);
      if (!firstError) {
        firstError = e;
        // NOTE: the others fail at their next collective; one stuck in pure compute is terminated after a grace period.
        setTimeout(() => workers.forEach((w) => void w.terminate()), 10_000).unref();
      }
    };
    for (let rank = 0; rank < worldSize; rank++) {
      const w = new Worker(entry, { workerData: { group, rank, data: options.data } satisfies ThreadWorkerData });
      workers.push(w);
      let done = false;
      w.on('message', (m: { result: T }) => {
        done = true;
        results[rank] = m.result;
      });
      w.on('error', (e) => fail(rank, e));
      w.on('exit', (code) => {
        if (!done) fail(rank, new CommError('TRAIN_COMM_PEER_LOST', `rank ${rank} (worker thread) exited with code ${code} before finishing`));
        // Settle once every worker is gone, so a failed job leaves no threads behind.
        if (++exited === worldSize) {
          if (firstError) reject(firstError);
          else resolve(results);
        }
      });
    }
  });
}

/**
 * Inside a worker started by {@link spawnThreads}: this rank's communicator, the shared
 * `data`, and `finish(result)` to hand the result back.
 */
export function joinThreadGroup<D = unknown>(): { comm: Communicator; rank: number; data: D; finish: (result: unknown) => void } {
  const wd = workerData as ThreadWorkerData | null;
  if (!parentPort || !wd || !wd.group) throw new CommError('TRAIN_COMM_BAD_ARGS', 'joinThreadGroup() must run inside a worker started by spawnThreads()');
  const port = parentPort;
  return { comm: threadsCommunicator(wd.group, wd.rank), rank: wd.rank, data: wd.data as D, finish: (result) => port.postMessage({ result }) };
}
