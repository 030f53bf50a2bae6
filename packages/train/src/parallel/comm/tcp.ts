// The tcp backend: ranks in processes on one or many machines, rendezvous at MASTER_ADDR:MASTER_PORT, then a full mesh of framed node:net sockets under the ring collectives.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { CommError, type Communicator } from '../communicator.js';
import { RingCommunicator } from './ring.js';
import { Mailbox, type Transport } from './transport.js';

/** Options for {@link tcpCommunicator}. */
export interface TcpOptions {
  /** This rank, 0 ≤ rank < worldSize. Required. */
  rank: number;
  /** Number of processes. Required. */
  worldSize: number;
  /** Host where rank 0 listens for the rendezvous. Default '127.0.0.1'. */
  masterAddr?: string;
  /** Port where rank 0 listens for the rendezvous (and its peers). Default 29500 (torchrun's). */
  masterPort?: number;
  /** Address this rank's own listener binds; default '127.0.0.1' when masterAddr is loopback, else '0.0.0.0'. */
  listenHost?: string;
  /** A recv or send waiting longer than this fails with `TRAIN_COMM_TIMEOUT`. Default 120 000 ms. */
  timeoutMs?: number;
  /** How long to keep retrying the rendezvous (rank 0 may start later). Default 60 000 ms. */
  connectTimeoutMs?: number;
}

const HELLO = '\u0000hello';
const TABLE = '\u0000table';
const BYE = '\u0000bye';

/** Encodes one frame: u32 tag length, u32 payload length, tag (utf-8), payload. */
function frame(tag: string, payload: Uint8Array): Buffer {
  const t = Buffer.from(tag, 'utf8');
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(t.length, 0);
  head.writeUInt32LE(payload.byteLength, 4);
  return Buffer.concat([head, t, payload]);
}

/** Splits a socket's byte stream into frames; chunks are kept in a list and joined once per frame (no quadratic re-copying). */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = 8; // NOTE: bytes of the next unit to complete: the 8-byte header, then the whole frame
  private header: { tl: number; pl: number } | null = null;
  constructor(private readonly onFrame: (tag: string, payload: Uint8Array) => void) {}

  /** Removes and returns the first `n` buffered bytes as one Buffer. */
  private take(n: number): Buffer {
    const out = this.chunks.length === 1 && this.chunks[0].length === n ? this.chunks[0] : Buffer.allocUnsafe(n);
    if (out !== this.chunks[0]) {
      let at = 0;
      while (at < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    } else this.chunks.shift();
    this.buffered -= n;
    return out;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= this.need) {
      if (!this.header) {
        const h = this.take(8);
        this.header = { tl: h.readUInt32LE(0), pl: h.readUInt32LE(4) };
        this.need = this.header.tl + this.header.pl;
        if (this.need > 0) continue;
      }
      const { tl, pl } = this.header;
      const body = this.need > 0 ? this.take(tl + pl) : Buffer.alloc(0);
      this.header = null;
      this.need = 8;
      this.onFrame(body.toString('utf8', 0, tl), new Uint8Array(body.buffer, body.byteOffset + tl, pl));
    }
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** A full mesh of sockets, one per peer, each feeding a per-peer mailbox. */
class SocketTransport implements Transport {
  private readonly boxes: Mailbox[];
  private readonly links: (Socket | null)[];
  private readonly byeFrom = new Set<number>();
  private failure: CommError | null = null;
  private closing = false;

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    private readonly timeoutMs: number,
    private readonly server: Server,
  ) {
    this.boxes = Array.from({ length: worldSize }, () => new Mailbox());
    this.links = new Array<Socket | null>(worldSize).fill(null);
  }

  /** Adopts `socket` as the link to `peer`; its later frames go to the mailbox. */
  attach(peer: number, socket: Socket, reader: FrameSink): void {
    this.links[peer] = socket;
    reader.onFrame = (tag, payload) => {
      if (tag === BYE) {
        this.byeFrom.add(peer);
        this.boxes[peer].fail(new CommError('TRAIN_COMM_CLOSED', `rank ${this.rank}: rank ${peer} closed its communicator`));
      } else this.boxes[peer].deliver(tag, payload);
    };
    for (const [tag, payload] of reader.pending.splice(0)) reader.onFrame(tag, payload);
    const lost = (why: string): void => {
      if (this.closing || this.byeFrom.has(peer)) return;
      this.failAll(new CommError('TRAIN_COMM_PEER_LOST', `rank ${this.rank}: connection to rank ${peer} ${why}; that process died or its network failed`, {
        hint: 'look at rank ' + peer + "'s own output for the cause; every rank stops with this error", details: { peer },
      }));
    };
    socket.on('close', () => lost('closed'));
    socket.on('error', (e) => lost(`failed (${e.message})`));
  }

  /** Every pending and future operation on every peer fails with `error`, so no rank waits on a dead ring. */
  private failAll(error: CommError): void {
    if (this.failure) return;
    this.failure = error;
    for (const b of this.boxes) b.fail(error);
  }

  send(peer: number, tag: string, payload: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const s = this.links[peer];
    if (!s || s.destroyed) return Promise.reject(new CommError('TRAIN_COMM_PEER_LOST', `rank ${this.rank}: no connection to rank ${peer}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CommError('TRAIN_COMM_TIMEOUT', `rank ${this.rank}: send to rank ${peer} (${tag}) not flushed within ${this.timeoutMs} ms`)), this.timeoutMs);
      s.write(frame(tag, payload), (err) => {
        clearTimeout(timer);
        if (err) reject(this.failure ?? new CommError('TRAIN_COMM_PEER_LOST', `rank ${this.rank}: send to rank ${peer} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  recv(peer: number, tag: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new CommError('TRAIN_COMM_TIMEOUT', `rank ${this.rank}: waited ${this.timeoutMs} ms for rank ${peer} (${tag})`, {
          hint: 'a peer is stuck, unreachable, or calls collectives in a different order; raise timeoutMs if steps are this slow',
        });
        this.failAll(err);
        reject(err);
      }, this.timeoutMs);
      this.boxes[peer].take(tag).then(
        (m) => { clearTimeout(timer); resolve(m); },
        (e: unknown) => { clearTimeout(timer); reject(e); },
      );
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.links.map((s) => new Promise<void>((resolve) => {
      if (!s || s.destroyed) return resolve();
      s.end(frame(BYE, new Uint8Array(0)), () => resolve());
      setTimeout(resolve, 1000).unref();
    })));
    for (const s of this.links) s?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Where a socket's frames go: kept in `pending` until the transport sets `onFrame`. */
interface FrameSink {
  onFrame: (tag: string, payload: Uint8Array) => void;
  pending: [string, Uint8Array][];
}

function frameSink(): FrameSink {
  const sink: FrameSink = { pending: [], onFrame: (tag, payload) => void sink.pending.push([tag, payload]) };
  return sink;
}

/** Reads the first frame of `socket` (a hello or table); later frames go to the returned sink. */
function firstFrame(socket: Socket, ms: number, what: string): Promise<{ tag: string; payload: Uint8Array; reader: FrameSink }> {
  return new Promise((resolve, reject) => {
    const reader = frameSink();
    let first = true;
    const fr = new FrameReader((tag, payload) => {
      if (first) {
        first = false;
        clearTimeout(timer);
        resolve({ tag, payload, reader });
      } else reader.onFrame(tag, payload);
    });
    socket.on('data', (c: Buffer) => fr.push(c));
    const timer = setTimeout(() => reject(new CommError('TRAIN_COMM_RENDEZVOUS', `${what}: nothing received within ${ms} ms`)), ms);
    socket.once('error', (e) => { clearTimeout(timer); reject(new CommError('TRAIN_COMM_RENDEZVOUS', `${what}: ${e.message}`)); });
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new CommError('TRAIN_COMM_RENDEZVOUS', `cannot listen on ${host}:${port}: ${e.message}`, { hint: 'pick another MASTER_PORT or stop the process holding it' })));
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/** Connects to host:port, retrying every 100 ms until `deadline` (the listener may not be up yet). */
async function dial(host: string, port: number, deadline: number, what: string): Promise<Socket> {
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection({ host, port }, () => { s.removeListener('error', reject); resolve(s); });
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw new CommError('TRAIN_COMM_RENDEZVOUS', `${what}: cannot connect to ${host}:${port}: ${(e as Error).message}`, { hint: 'check MASTER_ADDR/MASTER_PORT and that rank 0 is running and reachable' });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const json = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));
const unjson = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

/**
 * Joins the group and returns this process's communicator. Rank 0 listens at
 * `masterAddr:masterPort`; every other rank listens on an ephemeral port, says hello to rank 0,
 * gets the table of addresses, and dials the ranks below it, so each pair shares one socket.
 * A peer whose socket closes (its process died) makes every pending and later call on every
 * rank fail with `TRAIN_COMM_PEER_LOST`; a silent peer fails with `TRAIN_COMM_TIMEOUT`.
 *
 * @example
 * const comm = await tcpCommunicator({ ...resolveDistEnv(), timeoutMs: 30_000 });
 */
export async function tcpCommunicator(options: TcpOptions): Promise<Communicator> {
  const { rank, worldSize } = options;
  if (!(Number.isInteger(worldSize) && worldSize >= 1 && Number.isInteger(rank) && rank >= 0 && rank < worldSize)) {
    throw new CommError('TRAIN_COMM_BAD_ARGS', `tcp: need 0 ≤ rank < worldSize, got rank ${rank}, worldSize ${worldSize}`, { hint: 'set RANK and WORLD_SIZE (or launch with lmkit launch / torchrun / srun)' });
  }
  const masterAddr = options.masterAddr ?? '127.0.0.1';
  const masterPort = options.masterPort ?? 29500;
  const listenHost = options.listenHost ?? (isLoopback(masterAddr) ? '127.0.0.1' : '0.0.0.0');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + (options.connectTimeoutMs ?? 60_000);
  const server = createServer();
  const transport = new SocketTransport(rank, worldSize, timeoutMs, server);
  const expectAccepts = rank === 0 ? worldSize - 1 : worldSize - 1 - rank;
  let acceptResolve!: () => void;
  let acceptReject!: (e: Error) => void;
  const allAccepted = new Promise<void>((res, rej) => { acceptResolve = res; acceptReject = rej; });
  const table: { host: string; port: number }[] = new Array(worldSize);
  const fromMaster: Socket[] = [];
  let got = 0;
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    void firstFrame(socket, Math.max(1, deadline - Date.now()), `rank ${rank}: hello`).then(({ tag, payload, reader }) => {
      if (tag !== HELLO) throw new CommError('TRAIN_COMM_RENDEZVOUS', `rank ${rank}: a connection did not start with a hello (got "${tag}"); is something else using this port?`);
      const hello = unjson<{ rank: number; port: number }>(payload);
      transport.attach(hello.rank, socket, reader);
      if (rank === 0) {
        table[hello.rank] = { host: (socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''), port: hello.port };
        fromMaster[hello.rank] = socket;
      }
      if (++got === expectAccepts) acceptResolve();
    }).catch(acceptReject);
  });
  if (worldSize === 1) {
    await listen(server, 0, listenHost);
    return new RingCommunicator(transport, 'tcp');
  }
  if (rank === 0) {
    await listen(server, masterPort, listenHost);
    const timer = setTimeout(() => acceptReject(new CommError('TRAIN_COMM_RENDEZVOUS', `rank 0: only ${got} of ${worldSize - 1} ranks joined ${masterAddr}:${masterPort} in time`, { hint: 'start every rank with the same WORLD_SIZE and MASTER_ADDR/MASTER_PORT' })), Math.max(1, deadline - Date.now()));
    await allAccepted.finally(() => clearTimeout(timer));
    const t = json(table);
    await Promise.all(fromMaster.slice(1).map((s) => new Promise<void>((res) => s.write(frame(TABLE, t), () => res()))));
  } else {
    const port = await listen(server, 0, listenHost);
    const m = await dial(masterAddr, masterPort, deadline, `rank ${rank}`);
    m.setNoDelay(true);
    const tableFrame = firstFrame(m, Math.max(1, deadline - Date.now()), `rank ${rank}: address table from rank 0`);
    m.write(frame(HELLO, json({ rank, port })));
    const { tag, payload, reader } = await tableFrame;
    if (tag !== TABLE) throw new CommError('TRAIN_COMM_RENDEZVOUS', `rank ${rank}: expected the address table from rank 0, got "${tag}"`);
    transport.attach(0, m, reader);
    const peers = unjson<{ host: string; port: number }[]>(payload);
    for (let j = 1; j < rank; j++) {
      const s = await dial(peers[j].host, peers[j].port, deadline, `rank ${rank} → rank ${j}`);
      s.setNoDelay(true);
      const fr = frameSink();
      const reader2 = new FrameReader((t2, p2) => fr.onFrame(t2, p2));
      s.on('data', (c: Buffer) => reader2.push(c));
      transport.attach(j, s, fr);
      s.write(frame(HELLO, json({ rank, port })));
    }
    if (expectAccepts > 0) {
      const timer = setTimeout(() => acceptReject(new CommError('TRAIN_COMM_RENDEZVOUS', `rank ${rank}: ranks above it did not connect in time`)), Math.max(1, deadline - Date.now()));
      await allAccepted.finally(() => clearTimeout(timer));
    }
  }
  return new RingCommunicator(transport, 'tcp');
}
