// Ring collectives (reduce-scatter, all-gather, all-reduce, broadcast) written once over a Transport, shared by the threads and tcp backends.
import { chunkRange, CommError, type BackendName, type Communicator, type FloatArray, type ReduceOp } from '../communicator.js';
import type { Transport } from './transport.js';

/** Bytes of `a[start, end)` as a view (no copy). */
function bytesOf(a: FloatArray, start = 0, end = a.length): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset + start * a.BYTES_PER_ELEMENT, (end - start) * a.BYTES_PER_ELEMENT);
}

/** A typed array of `like`'s type over `bytes` (copied when unaligned). */
function asFloats(like: FloatArray, bytes: Uint8Array): FloatArray {
  const bpe = like.BYTES_PER_ELEMENT;
  const aligned = bytes.byteOffset % bpe === 0 ? bytes : bytes.slice();
  return like instanceof Float64Array
    ? new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8)
    : new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

/**
 * A {@link Communicator} whose collectives are ring algorithms over point-to-point messages:
 * reduce-scatter and all-gather take N−1 steps each, sending one chunk to rank+1 and
 * receiving one from rank−1 per step, so all-reduce (= reduce-scatter + all-gather) sends
 * 2(N−1)/N of the array per rank. Every rank reduces its chunks in the same order, so all
 * ranks end bit-identical.
 */
export class RingCommunicator implements Communicator {
  readonly rank: number;
  readonly worldSize: number;
  private sent = 0;
  private opSeq = 0;
  private readonly sendSeq: number[];
  private readonly recvSeq: number[];
  private closed = false;

  constructor(
    private readonly transport: Transport,
    readonly backend: BackendName,
    /** Also told of every payload byte sent (a split group reports to its parent's counter). */
    private readonly onSent?: (bytes: number) => void,
  ) {
    this.rank = transport.rank;
    this.worldSize = transport.worldSize;
    this.sendSeq = new Array<number>(this.worldSize).fill(0);
    this.recvSeq = new Array<number>(this.worldSize).fill(0);
  }

  private check(what: string): void {
    if (this.closed) throw new CommError('TRAIN_COMM_CLOSED', `${what} on rank ${this.rank}: the communicator is closed`);
  }

  private async put(peer: number, tag: string, bytes: Uint8Array): Promise<void> {
    this.sent += bytes.byteLength;
    this.onSent?.(bytes.byteLength);
    await this.transport.send(peer, tag, bytes);
  }

  /** One ring pass: N−1 steps; at step s send chunk `sendChunk(s)` right and combine the chunk from the left into `recvChunk(s)`. */
  private async ringPass(data: FloatArray, op: string, sendChunk: (s: number) => number, recvChunk: (s: number) => number, combine: 'add' | 'copy'): Promise<void> {
    const N = this.worldSize;
    const right = (this.rank + 1) % N;
    const left = (this.rank + N - 1) % N;
    for (let s = 0; s < N - 1; s++) {
      const tag = `${op}:${s}`;
      const [a0, a1] = chunkRange(data.length, N, sendChunk(s));
      const [b0, b1] = chunkRange(data.length, N, recvChunk(s));
      const [, incoming] = await Promise.all([this.put(right, tag, bytesOf(data, a0, a1).slice()), this.transport.recv(left, tag)]);
      const inc = asFloats(data, incoming);
      if (inc.length !== b1 - b0) throw new CommError('TRAIN_COMM_BAD_ARGS', `${op}: rank ${left} sent ${inc.length} elements, rank ${this.rank} expected ${b1 - b0}; every rank must pass arrays of the same length`);
      if (combine === 'add') for (let i = 0; i < inc.length; i++) data[b0 + i] += inc[i];
      else data.set(inc, b0);
    }
  }

  private nextOp(kind: string): string {
    return `${kind}#${this.opSeq++}`;
  }

  /** In place: afterwards rank r holds the full reduction of chunk r (other chunks hold partial sums). */
  private reduceScatterInPlace(data: FloatArray, op: string): Promise<void> {
    const N = this.worldSize;
    const r = this.rank;
    return this.ringPass(data, `${op}/rs`, (s) => (((r - s - 1) % N) + N) % N, (s) => (((r - s - 2) % N) + 2 * N) % N, 'add');
  }

  /** In place: rank r contributes chunk r, afterwards every rank holds every chunk. */
  private allGatherInPlace(data: FloatArray, op: string): Promise<void> {
    const N = this.worldSize;
    const r = this.rank;
    return this.ringPass(data, `${op}/ag`, (s) => (((r - s) % N) + N) % N, (s) => (((r - s - 1) % N) + N) % N, 'copy');
  }

  async allReduce(data: FloatArray, op: ReduceOp = 'sum'): Promise<void> {
    this.check('allReduce');
    const tag = this.nextOp('ar');
    if (this.worldSize === 1) return;
    await this.reduceScatterInPlace(data, tag);
    if (op === 'mean') {
      const [c0, c1] = chunkRange(data.length, this.worldSize, this.rank);
      for (let i = c0; i < c1; i++) data[i] /= this.worldSize;
    }
    await this.allGatherInPlace(data, tag);
  }

  async reduceScatter(input: FloatArray, output: FloatArray, op: ReduceOp = 'sum'): Promise<void> {
    this.check('reduceScatter');
    const tag = this.nextOp('rs');
    if (input.length !== output.length * this.worldSize) {
      throw new CommError('TRAIN_COMM_BAD_ARGS', `reduceScatter: input has ${input.length} elements, expected output.length × worldSize = ${output.length} × ${this.worldSize}`, { hint: 'pad the input to a multiple of the world size' });
    }
    const work = input.slice();
    if (this.worldSize > 1) await this.reduceScatterInPlace(work, tag);
    const [c0, c1] = chunkRange(work.length, this.worldSize, this.rank);
    output.set(work.subarray(c0, c1));
    if (op === 'mean') for (let i = 0; i < output.length; i++) output[i] /= this.worldSize;
  }

  async allGather(input: FloatArray, output: FloatArray): Promise<void> {
    this.check('allGather');
    const tag = this.nextOp('ag');
    if (output.length !== input.length * this.worldSize) {
      throw new CommError('TRAIN_COMM_BAD_ARGS', `allGather: output has ${output.length} elements, expected input.length × worldSize = ${input.length} × ${this.worldSize}`);
    }
    output.set(input, this.rank * input.length);
    if (this.worldSize > 1) await this.allGatherInPlace(output, tag);
  }

  async broadcast(data: FloatArray, root = 0): Promise<void> {
    this.check('broadcast');
    const tag = this.nextOp('bc');
    const N = this.worldSize;
    if (N === 1) return;
    // NOTE: a chain root → root+1 → …; each rank forwards once, so every rank but the last sends n elements.
    const pos = (this.rank - root + N) % N;
    if (pos > 0) data.set(asFloats(data, await this.transport.recv((this.rank + N - 1) % N, tag)));
    if (pos < N - 1) await this.put((this.rank + 1) % N, tag, bytesOf(data).slice());
  }

  async barrier(): Promise<void> {
    this.check('barrier');
    await this.allReduce(new Float64Array(this.worldSize));
  }

  async send(peer: number, data: FloatArray): Promise<void> {
    this.check('send');
    this.checkPeer(peer, 'send');
    await this.put(peer, `p2p:${this.sendSeq[peer]++}`, bytesOf(data).slice());
  }

  async recv(peer: number, into: FloatArray): Promise<void> {
    this.check('recv');
    this.checkPeer(peer, 'recv');
    const got = asFloats(into, await this.transport.recv(peer, `p2p:${this.recvSeq[peer]++}`));
    if (got.length !== into.length) throw new CommError('TRAIN_COMM_BAD_ARGS', `recv on rank ${this.rank}: rank ${peer} sent ${got.length} elements, the buffer holds ${into.length}`);
    into.set(got);
  }

  private checkPeer(peer: number, what: string): void {
    if (!(Number.isInteger(peer) && peer >= 0 && peer < this.worldSize && peer !== this.rank)) {
      throw new CommError('TRAIN_COMM_BAD_ARGS', `${what} on rank ${this.rank}: peer must be another rank in [0, ${this.worldSize}), got ${peer}`);
    }
  }

  bytesSent(): number {
    return this.sent;
  }

  resetStats(): void {
    this.sent = 0;
  }

  split(ranks: readonly number[], key: string): Communicator {
    const me = ranks.indexOf(this.rank);
    if (me < 0 || new Set(ranks).size !== ranks.length || ranks.some((r) => !(Number.isInteger(r) && r >= 0 && r < this.worldSize))) {
      throw new CommError('TRAIN_COMM_BAD_ARGS', `split "${key}" on rank ${this.rank}: ranks [${ranks.join(', ')}] must be distinct ranks below ${this.worldSize} that include this one`);
    }
    const parent = this.transport;
    const sub: Transport = {
      rank: me,
      worldSize: ranks.length,
      send: (peer, tag, payload) => parent.send(ranks[peer], `${key}|${tag}`, payload),
      recv: (peer, tag) => parent.recv(ranks[peer], `${key}|${tag}`),
      close: async () => undefined, // NOTE: the parent owns the connections
    };
    return new RingCommunicator(sub, this.backend, (n) => {
      this.sent += n;
      this.onSent?.(n);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transport.close();
  }
}
