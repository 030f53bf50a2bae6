// Deterministic test matrices for the quantization tests: a 32-bit LCG mapped to uniform floats in [-0.1, 0.1).

/** A rows × cols matrix (row-major) from the LCG seeded with `seed`, uniform in [-0.1, 0.1). */
export function randomMatrix(rows: number, cols: number, seed = 1): Float32Array {
  const out = new Float32Array(rows * cols);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 0.1;
  }
  return out;
}
