// One conformance suite of collective results every Communicator backend must produce, run by each backend's tests.
import { chunkRange, type Communicator } from '../communicator.js';

/** A deterministic, rank-dependent test vector: values k·0.5 + rank·1000 + rank²/7 (exact sums in f64). */
export function rankVector(rank: number, n: number, ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array): Float32Array | Float64Array {
  const a = new ctor(n);
  for (let k = 0; k < n; k++) a[k] = k * 0.5 + rank * 1000 + (rank * rank) / 8;
  return a;
}

/**
 * Runs every collective on `comm` and returns, per check, the largest |actual − expected|
 * (0 means exact): all-reduce sum/mean on uneven lengths, reduce-scatter, all-gather,
 * broadcast from the last rank, send/recv around the ring, and a barrier. Ranks must all call it.
 */
export async function runConformance(comm: Communicator): Promise<Record<string, number>> {
  const N = comm.worldSize;
  const r = comm.rank;
  const errors: Record<string, number> = {};
  const maxErr = (name: string, got: ArrayLike<number>, want: (i: number) => number): void => {
    let e = 0;
    for (let i = 0; i < got.length; i++) e = Math.max(e, Math.abs(got[i] - want(i)));
    errors[name] = Math.max(errors[name] ?? 0, e);
  };
  const sumAt = (k: number): number => {
    let s = 0;
    for (let q = 0; q < N; q++) s += k * 0.5 + q * 1000 + (q * q) / 8;
    return s;
  };
  for (const n of [1, 7, 1000, 300_001]) {
    const a = rankVector(r, n);
    await comm.allReduce(a, 'sum');
    maxErr('allReduce sum', a, sumAt);
    const m = rankVector(r, n);
    await comm.allReduce(m, 'mean');
    maxErr('allReduce mean', m, (k) => sumAt(k) / N);
  }
  const S = 513;
  const shard = new Float64Array(S);
  await comm.reduceScatter(rankVector(r, S * N), shard, 'sum');
  maxErr('reduceScatter', shard, (i) => sumAt(r * S + i));
  const gathered = new Float64Array(S * N);
  const mine = new Float64Array(S).map((_, i) => r * 10_000 + i);
  await comm.allGather(mine, gathered);
  maxErr('allGather', gathered, (i) => Math.floor(i / S) * 10_000 + (i % S));
  const b = r === N - 1 ? rankVector(r, 999) : new Float64Array(999);
  await comm.broadcast(b, N - 1);
  maxErr('broadcast', b, (k) => k * 0.5 + (N - 1) * 1000 + ((N - 1) * (N - 1)) / 8);
  if (N > 1) {
    const out = new Float32Array(70_000).fill(r + 1);
    const inn = new Float32Array(70_000);
    await Promise.all([comm.send((r + 1) % N, out), comm.recv((r + N - 1) % N, inn)]);
    maxErr('send/recv', inn, () => ((r + N - 1) % N) + 1);
  }
  await comm.barrier();
  // f32 all-reduce: every rank must hold bit-identical results (each chunk is reduced once, then copied).
  const f = rankVector(r, 4097, Float32Array);
  for (let i = 0; i < f.length; i++) f[i] = Math.fround(Math.sin(i * 1.3 + r) * 1e-3);
  await comm.allReduce(f, 'sum');
  const [c0] = chunkRange(f.length, N, 0);
  const probe = new Float64Array([f[c0], f[f.length - 1], f[2048]]);
  const all = new Float64Array(3 * N);
  await comm.allGather(probe, all);
  maxErr('f32 allReduce identical on all ranks', all, (i) => all[i % 3]);
  return errors;
}
