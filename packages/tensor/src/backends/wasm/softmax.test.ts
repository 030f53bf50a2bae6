// softmaxRows against a float64 reference: odd row lengths, masks, NaN, large magnitudes, in place, both SIMD flavours, 1 vs 2 threads.
import { describe, expect, test } from 'vitest';
import { allocF32, freeF32, initWasmKernels, setThreads, softmaxRows, SOFTMAX_PARALLEL_MIN } from './index';
import { lcgUniform as random } from './test-random.js';

/** float64 softmax of each row. */
function reference(x: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[r * cols + i]);
    let s = 0;
    for (let i = 0; i < cols; i++) s += (out[r * cols + i] = Math.exp(x[r * cols + i] - m));
    for (let i = 0; i < cols; i++) out[r * cols + i] /= s;
  }
  return out;
}

/** |y − ref| ≤ 1e-5·ref + 1e-36 (relative: exp is ≤ 2 ulp, the f32 row sum adds ~cols·2⁻²⁴ at worst). */
function expectClose(y: Float32Array, ref: Float64Array, what: string): void {
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(y[i] - ref[i]);
    if (!(err <= 1e-5 * ref[i] + 1e-36)) throw new Error(`${what}: y[${i}] = ${y[i]}, expected ${ref[i]}`);
  }
}

describe.each([
  ['relaxed SIMD', true],
  ['plain SIMD', false],
])('softmaxRows (%s)', (_name, relaxedSimd) => {
  test('matches float64 on odd row lengths and magnitudes', async () => {
    await initWasmKernels({ threads: 2, relaxedSimd });
    for (const cols of [1, 2, 3, 4, 5, 17, 128, 1001]) {
      for (const scale of [1, 30, 1e4]) {
        const rows = 7;
        const x = random(rows * cols, cols * 31 + scale, scale);
        const y = new Float32Array(rows * cols);
        softmaxRows({ x, y, rows, cols });
        expectClose(y, reference(x, rows, cols), `cols ${cols} scale ${scale}`);
      }
    }
  });

  test('−Infinity masks give exact zeros; NaN poisons only its row', () => {
    const cols = 9;
    const x = random(3 * cols, 5, 3);
    for (let i = 5; i < cols; i++) x[i] = -Infinity; // row 0: causal-style mask
    x[cols + 2] = Number.NaN; // row 1
    const y = new Float32Array(x.length);
    softmaxRows({ x, y, rows: 3, cols });
    for (let i = 5; i < cols; i++) expect(y[i]).toBe(0);
    expectClose(y.subarray(0, 5), reference(x.subarray(0, 5), 1, 5), 'masked row');
    expect(Array.from(y.subarray(cols, 2 * cols)).every(Number.isNaN)).toBe(true);
    expectClose(y.subarray(2 * cols), reference(x.subarray(2 * cols), 1, cols), 'row after NaN');
  });

  test('in place, with offsets, on plain and shared-memory arrays alike', () => {
    const rows = 5;
    const cols = 23;
    const x = random(3 + rows * cols, 9, 4);
    const ref = reference(x.subarray(3), rows, cols);
    const plain = x.slice();
    softmaxRows({ x: plain, y: plain, rows, cols, xOffset: 3, yOffset: 3 });
    expectClose(plain.subarray(3), ref, 'plain in place');
    expect(Array.from(plain.subarray(0, 3))).toEqual(Array.from(x.subarray(0, 3)));
    const shared = allocF32(x.length);
    shared.set(x);
    softmaxRows({ x: shared, y: shared, rows, cols, xOffset: 3, yOffset: 3 });
    expect(shared.subarray(3)).toEqual(plain.subarray(3));
    const out = new Float32Array(rows * cols);
    shared.set(x);
    softmaxRows({ x: shared, y: out, rows, cols, xOffset: 3 });
    expect(out).toEqual(plain.subarray(3));
    freeF32(shared);
  });

  test('1 and 2 threads give identical results', async () => {
    const rows = 300;
    const cols = 257;
    expect(rows * cols).toBeGreaterThan(SOFTMAX_PARALLEL_MIN);
    const x = random(rows * cols, 11, 8);
    const one = new Float32Array(x.length);
    const two = new Float32Array(x.length);
    await setThreads(1);
    softmaxRows({ x, y: one, rows, cols });
    await setThreads(2);
    softmaxRows({ x, y: two, rows, cols });
    expect(two).toEqual(one);
    expectClose(two, reference(x, rows, cols), 'threaded');
  });
});

test('softmaxRows rejects bad arguments with typed errors', async () => {
  await initWasmKernels({ threads: 1 });
  const x = new Float32Array(6);
  expect(() => softmaxRows({ x, y: x, rows: 2, cols: 4 })).toThrow(expect.objectContaining({ code: 'TENSOR_INDEX_OUT_OF_RANGE' }));
  expect(() => softmaxRows({ x, y: x, rows: -1, cols: 4 })).toThrow(expect.objectContaining({ code: 'TENSOR_BAD_ARGUMENT' }));
});
