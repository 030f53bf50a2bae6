// sgemm against a float64 reference: every transpose combination, odd shapes, batches, offsets, beta, both SIMD flavours and 1 vs 2 threads.
import { describe, expect, test } from 'vitest';
import { allocF32, freeF32, initWasmKernels, isWasmF32, setThreads, sgemm, wasmInfo, wasmKernelsReady } from './index';
import { PARALLEL_MIN_FLOPS, type SgemmArgs } from './sgemm';
import { lcgUniform as random } from './test-random.js';

/**
 * The float64 reference (written independently of the kernel's packing) and a per-element error
 * bound: |ĉ - c| ≤ 2·k·u·Σ|a||b| + (beta ? u·|c₀| : 0), with u = 2⁻²⁴ (Higham's γ_k bound, doubled).
 */
function reference(args: Required<Omit<SgemmArgs, 'a' | 'b' | 'c'>> & Pick<SgemmArgs, 'a' | 'b' | 'c'>) {
  const { m, n, k, a, b, c } = args;
  const expected = Float64Array.from(c);
  const bound = new Float64Array(c.length);
  const u = 2 ** -24;
  for (let t = 0; t < args.batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const av = args.transA ? a[args.aOffset + t * args.strideA + p * args.lda + i] : a[args.aOffset + t * args.strideA + i * args.lda + p];
          const bv = args.transB ? b[args.bOffset + t * args.strideB + j * args.ldb + p] : b[args.bOffset + t * args.strideB + p * args.ldb + j];
          sum += av * bv;
          abs += Math.abs(av * bv);
        }
        const at = args.cOffset + t * args.strideC + i * args.ldc + j;
        bound[at] = 2 * Math.max(k, 1) * u * abs + (args.beta ? u * Math.abs(c[at]) + u * Math.abs(sum) : 0) + 1e-30;
        expected[at] = args.beta ? c[at] + sum : sum;
      }
    }
  }
  return { expected, bound };
}

interface Shape {
  m: number;
  n: number;
  k: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  beta?: 0 | 1;
  /** Extra elements of leading-dimension padding on every operand. */
  pad?: number;
  /** Offset of each operand's first element. */
  offset?: number;
  /** Share one A across the batch (strideA 0). */
  shareA?: boolean;
}

/** Builds full sgemm arguments for a shape (padding, offsets, strides), runs it, and checks every element of C. */
function check(shape: Shape, inWasm = false): Float32Array {
  const { m, n, k, batch = 1, transA = false, transB = false, beta = 0, pad = 0, offset = 0 } = shape;
  const lda = (transA ? m : k) + pad;
  const ldb = (transB ? k : n) + pad;
  const ldc = n + pad;
  const strideA = shape.shareA ? 0 : (transA ? k : m) * lda + pad;
  const strideB = (transB ? n : k) * ldb + pad;
  const strideC = m * ldc + pad;
  const size = (stride: number, rows: number, ld: number): number => offset + Math.max(0, batch - 1) * stride + rows * ld;
  let a = random(size(strideA, transA ? k : m, lda), m * 7 + k);
  let b = random(size(strideB, transB ? n : k, ldb), n * 13 + k);
  let c = random(size(strideC, m, ldc), 99);
  const c0 = c.slice();
  if (inWasm) {
    [a, b, c] = [a, b, c].map((x) => {
      const w = allocF32(x.length);
      w.set(x);
      return w;
    });
  }
  const args = { m, n, k, a, b, c, aOffset: offset, bOffset: offset, cOffset: offset, lda, ldb, ldc, transA, transB, beta, batch, strideA, strideB, strideC };
  const { expected, bound } = reference({ ...args, c: c0 });
  sgemm(args);
  for (let i = 0; i < c.length; i++) {
    const err = Math.abs(c[i] - expected[i]);
    // Elements outside C's blocks (padding) must be untouched: their bound is 0 and expected = c0.
    if (!(err <= bound[i])) {
      throw new Error(`C[${i}] = ${c[i]}, expected ${expected[i]} ± ${bound[i]} for ${JSON.stringify(shape)}`);
    }
  }
  const out = c.slice();
  if (inWasm) [a, b, c].forEach(freeF32);
  return out;
}

const transposes = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

const shapes: Shape[] = [
  { m: 1, n: 1, k: 1 },
  { m: 1, n: 7, k: 3 },
  { m: 5, n: 1, k: 9 },
  { m: 7, n: 13, k: 11 },
  { m: 4, n: 8, k: 256 }, // exactly one tile, one depth block
  { m: 17, n: 31, k: 257 }, // one past the depth block
  { m: 131, n: 9, k: 5 }, // one row block past MC
  { m: 3, n: 2053, k: 4 }, // past the column block NC, prime
  { m: 6, n: 10, k: 0 }, // empty sum
  { m: 1, n: 37, k: 301 }, // matrix-vector path (rows < tile)
  { m: 2, n: 17, k: 5 },
  { m: 3, n: 61, k: 130, pad: 3, offset: 2 },
];

test('throws TENSOR_WASM_NOT_READY before init', () => {
  expect(wasmKernelsReady()).toBe(false);
  expect(() => sgemm({ m: 1, n: 1, k: 1, a: new Float32Array(1), b: new Float32Array(1), c: new Float32Array(1) })).toThrow(
    expect.objectContaining({ code: 'TENSOR_WASM_NOT_READY' }),
  );
});

describe.each([
  ['relaxed SIMD', true],
  ['plain SIMD', false],
])('sgemm (%s)', (_name, relaxedSimd) => {
  test('init reports the flavour in use', async () => {
    await initWasmKernels({ threads: 2, relaxedSimd });
    const info = wasmInfo();
    expect(info.ready && info.simd).toBe(true);
    // Node 20 accepts relaxed SIMD once the flag is set; plain is used when not asked for.
    expect(info.relaxedSimd).toBe(relaxedSimd);
    expect(info.threadsReady).toBe(2);
  });

  test.each(transposes)('odd shapes, transA %s transB %s', (transA, transB) => {
    for (const shape of shapes) check({ ...shape, transA, transB });
  });

  test.each(transposes)('batched, padded, offset, accumulating, transA %s transB %s', (transA, transB) => {
    check({ m: 9, n: 11, k: 7, batch: 3, transA, transB, pad: 3, offset: 5 });
    check({ m: 9, n: 11, k: 7, batch: 3, transA, transB, beta: 1 });
    check({ m: 5, n: 6, k: 33, batch: 4, transA, transB, shareA: true });
    check({ m: 1, n: 40, k: 19, batch: 3, transA, transB, pad: 1, beta: 1 });
  });

  test('arrays from allocF32 are used in place and give the same result', () => {
    const shape = { m: 23, n: 19, k: 29, batch: 2, transB: true, pad: 2 };
    expect(check(shape, true)).toEqual(check(shape, false));
  });

  test('1 and 2 threads give identical results, split by rows, columns and batch', async () => {
    const cases: Shape[] = [
      { m: 150, n: 90, k: 101 }, // rows
      { m: 40, n: 400, k: 77, transA: true }, // columns
      { m: 1, n: 3000, k: 700, transB: true }, // matrix-vector, columns
      { m: 33, n: 41, k: 65, batch: 16, transB: true }, // whole batch items
      { m: 67, n: 61, k: 97, batch: 3, beta: 1 }, // batch not divisible: rows
      { m: 5, n: 3, k: 3000, batch: 41 }, // rows again, a 1-row last block
    ];
    for (const shape of cases) {
      const { m, n, k, batch = 1 } = shape;
      expect(2 * m * n * k * batch).toBeGreaterThan(PARALLEL_MIN_FLOPS); // so two threads really run
      await setThreads(1);
      const one = check(shape);
      await setThreads(2);
      const two = check(shape);
      expect(two).toEqual(one);
    }
    // The caller takes back jobs no worker claimed in time; make sure a worker really ran some.
    const before = wasmInfo().workerJobs;
    for (let i = 0; i < 50 && wasmInfo().workerJobs === before; i++) check({ m: 200, n: 64, k: 300 });
    expect(wasmInfo().workerJobs).toBeGreaterThan(before);
  });
});

describe('sgemm arguments', () => {
  test('rejects bad arguments with typed errors naming the argument', async () => {
    await initWasmKernels({ threads: 1 });
    const a = new Float32Array(6);
    const b = new Float32Array(6);
    const c = new Float32Array(4);
    expect(() => sgemm({ m: 2, n: 2, k: 3, a, b, c, lda: 2 })).toThrow(expect.objectContaining({ code: 'TENSOR_SHAPE_MISMATCH', message: expect.stringContaining('lda 2') }));
    expect(() => sgemm({ m: 2, n: 2, k: 3, a, b, c: new Float32Array(3) })).toThrow(
      expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE', message: expect.stringContaining('c:') }),
    );
    expect(() => sgemm({ m: 2, n: 2, k: 3, a, b, c, aOffset: 1 })).toThrow(expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE' }));
    expect(() => sgemm({ m: 2.5, n: 2, k: 3, a, b, c })).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
    expect(() => sgemm({ m: 2, n: 2, k: 3, a, b, c, beta: 2 as 0 })).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
    expect(() => sgemm({ m: 2, n: 2, k: 3, a: [1, 2] as unknown as Float32Array, b, c })).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
    expect(() => sgemm({ m: 2, n: 2, k: 3, a, b, c: new Float32Array(8), batch: 2, strideA: 0, strideB: 0, strideC: 1 })).toThrow(
      expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT', message: expect.stringContaining('strideC') }),
    );
  });

  test('zero-sized products leave C alone', () => {
    const c = new Float32Array([7]);
    sgemm({ m: 0, n: 1, k: 3, a: new Float32Array(0), b: new Float32Array(3), c });
    sgemm({ m: 1, n: 1, k: 1, a: new Float32Array(1), b: new Float32Array(1), c, batch: 0 });
    expect(c[0]).toBe(7);
  });

  test('allocF32 views survive memory growth and are recognized', () => {
    const small = allocF32(16);
    small.fill(3);
    const big = allocF32(8 * 1024 * 1024); // 32 MiB: forces the shared memory to grow
    expect(small[15]).toBe(3);
    expect(isWasmF32(small) && isWasmF32(big)).toBe(true);
    expect(isWasmF32(new Float32Array(4))).toBe(false);
    freeF32(big);
    freeF32(small);
    expect(() => freeF32(small)).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
  });
});
