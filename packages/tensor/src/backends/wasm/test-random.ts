// Deterministic test inputs for the wasm kernel tests: a 32-bit LCG mapped to uniform floats in [-scale, scale).

/** `length` floats from the LCG seeded with `seed`, uniform in [-scale, scale). */
export function lcgUniform(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale;
  }
  return out;
}
