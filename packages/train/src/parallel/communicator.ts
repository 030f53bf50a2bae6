// The Communicator interface: the collectives (all-reduce, reduce-scatter, all-gather, broadcast, barrier) and point-to-point messages every parallel strategy is written against.
import { TrainError } from '../errors.js';

/** The element types collectives move: fp32 for training, fp64 for exactness tests. */
export type FloatArray = Float32Array | Float64Array;

/** How contributions are combined: `sum`, or `mean` (sum / worldSize, as DDP averages gradients). */
export type ReduceOp = 'sum' | 'mean';

/** Which transport a communicator runs on. */
export type BackendName = 'threads' | 'tcp';

/**
 * A group of `worldSize` ranks that exchange float arrays. Every rank must call the same
 * collectives in the same order (as with torch.distributed); calls may overlap (they are
 * matched by their order of issue, not by completion). Collectives are ring algorithms, so
 * an all-reduce of n elements sends 2(N−1)/N·n elements per rank.
 *
 * @example
 * await comm.allReduce(grad, 'mean');          // every rank now holds the mean gradient
 * const shard = new Float32Array(n / comm.worldSize);
 * await comm.reduceScatter(grad, shard, 'sum'); // rank r holds the sum of slice r
 */
export interface Communicator {
  /** This rank, 0 ≤ rank < worldSize. */
  readonly rank: number;
  /** Number of ranks in the group. */
  readonly worldSize: number;
  /** The transport underneath. */
  readonly backend: BackendName;
  /** Reduces `data` across ranks in place: afterwards every rank holds the same result. */
  allReduce(data: FloatArray, op?: ReduceOp): Promise<void>;
  /** Reduces `input` (length N·S) across ranks and writes slice `rank` (length S) of the result to `output`. */
  reduceScatter(input: FloatArray, output: FloatArray, op?: ReduceOp): Promise<void>;
  /** Concatenates every rank's `input` (length S) in rank order into `output` (length N·S). */
  allGather(input: FloatArray, output: FloatArray): Promise<void>;
  /** Copies `data` from rank `root` into `data` on every other rank. */
  broadcast(data: FloatArray, root?: number): Promise<void>;
  /** Resolves once every rank has called it. */
  barrier(): Promise<void>;
  /** Sends `data` to rank `peer` (matched, in order, by the peer's `recv` from this rank). */
  send(peer: number, data: FloatArray): Promise<void>;
  /** Receives the next message from rank `peer` into `into` (lengths must match). */
  recv(peer: number, into: FloatArray): Promise<void>;
  /** Payload bytes this rank has sent since creation or the last {@link Communicator.resetStats} (headers excluded). */
  bytesSent(): number;
  /** Sets the sent-bytes counter to zero. */
  resetStats(): void;
  /**
   * A communicator over the subset `ranks` (global ranks, in the new group's rank order) that
   * this rank belongs to, sharing this one's connections; `key` names the group (every member
   * passes the same). Used for the data-parallel and model-parallel groups of 2D parallelism.
   */
  split(ranks: readonly number[], key: string): Communicator;
  /** Releases sockets / shared buffers; later calls fail with `TRAIN_COMM_CLOSED`. */
  close(): Promise<void>;
}

/** Error codes of communication failures. */
export type CommErrorCode = 'TRAIN_COMM_TIMEOUT' | 'TRAIN_COMM_PEER_LOST' | 'TRAIN_COMM_CLOSED' | 'TRAIN_COMM_BAD_ARGS' | 'TRAIN_COMM_RENDEZVOUS';

/** A failed collective: a peer died, a message did not arrive in time, or the call was malformed. */
export class CommError extends TrainError {
  constructor(code: CommErrorCode, message: string, options: ConstructorParameters<typeof TrainError>[2] = {}) {
    super(code, message, options);
  }
}

/** The half-open range [start, end) of chunk `c` when `length` elements are cut into `parts` nearly equal chunks. */
export function chunkRange(length: number, parts: number, c: number): [number, number] {
  return [Math.floor((c * length) / parts), Math.floor(((c + 1) * length) / parts)];
}
