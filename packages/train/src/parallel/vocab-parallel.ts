// Megatron's vocab-parallel embedding and cross-entropy: the token table split by vocabulary rows across tensor-parallel ranks, logits never gathered.
import { embedding, mul, tensor, type Tensor } from '@lmkit/tensor';
import { TrainError } from '../errors.js';
import { chunkRange, type Communicator } from './communicator.js';

/**
 * The vocabulary rows [v0, v1) tensor-parallel rank `rank` of `ranks` holds: nearly equal
 * contiguous chunks (Megatron pads V to a multiple of t instead; uneven chunks need no padding).
 *
 * @example
 * vocabRange(50257, 2, 1); // [25128, 50257]
 */
export function vocabRange(vocabSize: number, ranks: number, rank: number): [number, number] {
  return chunkRange(vocabSize, ranks, rank);
}

/**
 * This rank's part of a vocab-parallel embedding lookup: rows of `local` (the table's rows
 * [v0, v0 + local.shape[0])) for the ids inside the shard, zeros for the others — Megatron's
 * VocabParallelEmbedding before its all-reduce. Summing the parts of all ranks (one all-reduce
 * of B·T·C) gives the dense lookup; the backward needs no communication (the gradient of the
 * sum is the same on every rank), and it scatters into this shard's rows only.
 *
 * @example
 * const part = vocabParallelLookup(shard, ids, [B, T], v0); // (B, T, C), zeros outside the shard
 * const x = Float32Array.from(part.data() as Float32Array);
 * await tp.allReduce(x, 'sum');
 */
export function vocabParallelLookup(local: Tensor, ids: Int32Array, shape: readonly number[], v0: number): Tensor {
  const rows = local.shape[0];
  const localIds = new Int32Array(ids.length);
  const mask = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const k = ids[i] - v0;
    const inside = k >= 0 && k < rows;
    localIds[i] = inside ? k : 0;
    mask[i] = inside ? 1 : 0;
  }
  return mul(embedding(local, tensor(localIds, [...shape], { dtype: 'i32' })), tensor(mask, [...shape, 1]));
}

/** What {@link vocabParallelCrossEntropy} returns (identical on every rank of the group). */
export interface VocabParallelLoss {
  /** Mean cross-entropy over the non-ignored rows (0 when every row is ignored, as the dense op). */
  loss: number;
  /** Non-ignored rows. */
  count: number;
  /** d(scale · loss)/d(local logits), (N, V/t) row-major: (softmax − one-hot) · scale / count on this rank's columns. */
  grad: Float32Array;
}

/** Options for {@link vocabParallelCrossEntropy}. */
export interface VocabParallelLossOptions {
  /** Targets equal to this are skipped. Default -100. */
  ignoreIndex?: number;
  /** Multiplies the gradient (e.g. 1/m for m accumulated micro-batches). Default 1. */
  scale?: number;
  /** The full vocabulary size, to reject out-of-range targets. Required. */
  vocabSize: number;
}

/**
 * Megatron's vocab_parallel_cross_entropy: softmax cross-entropy of logits split by columns
 * (this rank holds columns [v0, v0 + V/t) of the (N, V) logits) without gathering them. Three
 * exchanges of N numbers per rank: the per-row maxima (all-gathered — the Communicator reduces
 * by sum only — then the max taken locally), and one all-reduce carrying both the per-row sum of
 * exp(z − max) and the target logit (each row's target lives on exactly one rank). Computed in
 * f64. Returns the loss and the gradient of the local logits, ready to seed their backward.
 *
 * @example
 * const { loss, grad } = await vocabParallelCrossEntropy(tp, logitsLocal.data() as Float32Array, targets, v0, { vocabSize: V });
 * logitsLocal.backward(tensor(grad, logitsLocal.shape));
 */
export async function vocabParallelCrossEntropy(comm: Communicator, logits: Float32Array, targets: Int32Array, v0: number, options: VocabParallelLossOptions): Promise<VocabParallelLoss> {
  const N = targets.length;
  const Vl = logits.length / N;
  const ignore = options.ignoreIndex ?? -100;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(Vl)) throw new TrainError('TRAIN_BAD_CONFIG', `vocab-parallel cross-entropy: ${logits.length} logits do not make ${N} rows`, { hint: 'pass this rank’s (N, V/t) logits and the N targets' });
  let count = 0;
  for (let i = 0; i < N; i++) {
    const y = targets[i];
    if (y === ignore) continue;
    if (!(Number.isInteger(y) && y >= 0 && y < options.vocabSize)) {
      throw new TrainError('TRAIN_BAD_TARGET', `vocab-parallel cross-entropy: targets[${i}] = ${y} is outside [0, ${options.vocabSize})`, { hint: `targets must be token ids below the vocabulary size, or ${ignore} to skip a position`, details: { index: i, value: y } });
    }
    count++;
  }
  // 1. Row maxima over all shards (numerical stability): gather every rank's local maxima.
  const localMax = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let j = i * Vl; j < (i + 1) * Vl; j++) if (logits[j] > m) m = logits[j];
    localMax[i] = m;
  }
  const allMax = new Float64Array(N * comm.worldSize);
  await comm.allGather(localMax, allMax);
  const rowMax = new Float64Array(N).fill(-Infinity);
  for (let r = 0; r < comm.worldSize; r++) for (let i = 0; i < N; i++) rowMax[i] = Math.max(rowMax[i], allMax[r * N + i]);
  // 2. One all-reduce: [Σ exp(z − max) per row | target logit per row (0 on ranks without it)]. The exps are kept in `grad`.
  const sums = new Float64Array(2 * N);
  const grad = new Float32Array(logits.length);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let j = i * Vl; j < (i + 1) * Vl; j++) {
      const e = Math.exp(logits[j] - rowMax[i]);
      grad[j] = e;
      s += e;
    }
    sums[i] = s;
    const k = targets[i] - v0;
    if (targets[i] !== ignore && k >= 0 && k < Vl) sums[N + i] = logits[i * Vl + k];
  }
  await comm.allReduce(sums, 'sum');
  // 3. loss = mean(log Σ exp + max − z_target); d/dz = (softmax − one-hot) / count.
  let total = 0;
  const coef = scale / Math.max(count, 1);
  for (let i = 0; i < N; i++) {
    if (targets[i] === ignore) {
      grad.fill(0, i * Vl, (i + 1) * Vl);
      continue;
    }
    total += Math.log(sums[i]) + rowMax[i] - sums[N + i];
    const k2 = coef / sums[i];
    for (let j = i * Vl; j < (i + 1) * Vl; j++) grad[j] *= k2;
    const k = targets[i] - v0;
    if (k >= 0 && k < Vl) grad[i * Vl + k] -= coef;
  }
  return { loss: count > 0 ? total / count : 0, count, grad };
}
