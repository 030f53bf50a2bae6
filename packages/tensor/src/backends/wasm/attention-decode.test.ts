// attentionDecode against a float64 reference: in-heap (strided cache) vs staged plain arrays, 1 vs 2 threads, NaN, no visible key, bad arguments.
import { describe, expect, test } from 'vitest';
import { allocF32, attentionDecode, freeF32, initWasmKernels, setThreads, type AttentionDecodeArgs } from './index';
import { lcgUniform as random } from './test-random.js';

/** float64 attention of every query row: [out, lse]. */
function reference(a: AttentionDecodeArgs): [Float64Array, Float64Array] {
  const { batch, heads, kvHeads, rows, keys, dim } = a;
  const out = new Float64Array(batch * heads * rows * dim);
  const lse = new Float64Array(batch * heads * rows);
  for (let u = 0; u < batch * heads * rows; u++) {
    const i = u % rows;
    const head = Math.floor(u / rows) % heads;
    const n = Math.floor(u / (rows * heads)) * kvHeads + Math.floor(head / (heads / kvHeads));
    const qpos = i + a.positionOffset;
    const visible = a.causal ? Math.max(0, Math.min(keys, qpos + 1)) : keys;
    const sc: number[] = [];
    for (let j = 0; j < visible; j++) {
      let dot = 0;
      for (let x = 0; x < dim; x++) dot += a.q[u * dim + x] * a.k[a.kOffset + n * a.kStride + j * dim + x];
      sc.push(dot * a.scale - (a.slopes === null ? 0 : a.slopes[head] * Math.abs(qpos - j)));
    }
    const m = Math.max(...sc);
    let sum = 0;
    for (let j = 0; j < visible; j++) {
      const e = Math.exp(sc[j] - m);
      sum += e;
      for (let x = 0; x < dim; x++) out[u * dim + x] += e * a.v[a.vOffset + n * a.vStride + j * dim + x];
    }
    for (let x = 0; x < dim; x++) out[u * dim + x] = visible === 0 ? 0 : out[u * dim + x] / sum;
    lse[u] = visible === 0 ? -Infinity : m + Math.log(sum);
  }
  return [out, lse];
}

function args(shape: { batch: number; heads: number; kvHeads: number; rows: number; keys: number; dim: number; capacity: number }, inHeap: boolean, alibi: boolean): AttentionDecodeArgs {
  const { batch, heads, kvHeads, rows, keys, dim, capacity } = shape;
  const make = (length: number, seed: number): Float32Array => {
    const data = random(length, seed);
    if (!inHeap) return data;
    const a = allocF32(length);
    a.set(data);
    return a;
  };
  const kvLen = batch * kvHeads * capacity * dim;
  return {
    ...shape,
    q: make(batch * heads * rows * dim, 1), k: make(kvLen + 3, 2), kOffset: 3, kStride: capacity * dim, v: make(kvLen, 3), vOffset: 0, vStride: capacity * dim,
    out: inHeap ? allocF32(batch * heads * rows * dim) : new Float32Array(batch * heads * rows * dim), stats: new Float32Array(2 * batch * heads * rows),
    causal: true, positionOffset: keys - rows, scale: 1 / Math.sqrt(dim), slopes: alibi ? Float32Array.from({ length: heads }, (_, h) => 2 ** -(h + 1)) : null,
  };
}

function expectMatches(a: AttentionDecodeArgs): void {
  attentionDecode(a);
  const [out, lse] = reference(a);
  for (let i = 0; i < out.length; i++) if (!(Math.abs(a.out[i] - out[i]) <= 1e-5 + 1e-4 * Math.abs(out[i]))) throw new Error(`out[${i}] = ${a.out[i]}, expected ${out[i]}`);
  for (let u = 0; u < lse.length; u++) {
    const got = a.stats[2 * u] + Math.log(a.stats[2 * u + 1]);
    if (!(Math.abs(got - lse[u]) <= 1e-5 + 1e-5 * Math.abs(lse[u]))) throw new Error(`lse[${u}] = ${got}, expected ${lse[u]}`);
  }
}

describe('attentionDecode', () => {
  const shapes = [
    { batch: 1, heads: 12, kvHeads: 12, rows: 1, keys: 513, dim: 64, capacity: 1024 },
    { batch: 2, heads: 6, kvHeads: 2, rows: 3, keys: 37, dim: 7, capacity: 40 },
    { batch: 3, heads: 2, kvHeads: 1, rows: 8, keys: 8, dim: 4, capacity: 8 },
    { batch: 4, heads: 12, kvHeads: 4, rows: 1, keys: 1400, dim: 64, capacity: 1500 }, // ≥ ATTENTION_DECODE_PARALLEL_MIN: split over threads
  ];
  test.each([1, 2])('matches float64 on strided caches in the wasm memory and on staged plain arrays (%i threads)', async (threads) => {
    await initWasmKernels({ threads });
    await setThreads(threads);
    for (const shape of shapes) {
      for (const inHeap of [true, false]) {
        const a = args(shape, inHeap, shape.rows > 1);
        try {
          expectMatches(a);
        } finally {
          if (inHeap) for (const x of [a.q, a.k, a.v, a.out]) freeF32(x);
        }
      }
    }
  });

  test('a row with no visible key gives zeros and (−∞, 0); a NaN query gives NaN', async () => {
    await initWasmKernels({ threads: 1 });
    const a = args({ batch: 1, heads: 1, kvHeads: 1, rows: 2, keys: 5, dim: 4, capacity: 5 }, false, false);
    a.positionOffset = -1; // row 0 sits before key 0
    attentionDecode(a);
    expect(Array.from(a.out.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect([a.stats[0], a.stats[1]]).toEqual([-Infinity, 0]);
    a.q[4] = NaN;
    attentionDecode(a);
    expect(Array.from(a.out.subarray(4, 8)).every(Number.isNaN)).toBe(true);
  });

  test('rejects bad shapes and short arrays with typed errors', async () => {
    await initWasmKernels({ threads: 1 });
    const a = args({ batch: 1, heads: 4, kvHeads: 4, rows: 1, keys: 9, dim: 4, capacity: 9 }, false, false);
    expect(() => attentionDecode({ ...a, kvHeads: 3 })).toThrow(expect.objectContaining({ code: 'TENSOR_SHAPE_MISMATCH' }));
    expect(() => attentionDecode({ ...a, keys: 10 })).toThrow(expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE' }));
    expect(() => attentionDecode({ ...a, rows: 1.5 })).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
  });
});
