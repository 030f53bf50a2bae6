// A gradient comparison for the parallelism tests (kept apart from parallel-fixtures.ts, which worker processes bundle without vitest).
import { expect } from 'vitest';

/**
 * Expects every gradient in `got` to match `ref` element-wise within rtol·|g| + rtol·max|g| of its
 * tensor (relative, with a floor at the tensor's scale so near-zero entries do not decide).
 */
export function expectGradsClose(got: Map<string, Float32Array>, ref: Map<string, Float32Array>, rtol = 1e-5): void {
  for (const [name, g] of ref) {
    const x = got.get(name);
    expect(x, name).toBeDefined();
    const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(x![i] - g[i]) / (rtol * Math.abs(g[i]) + rtol * scale));
    expect(worst, name).toBeLessThanOrEqual(1);
  }
}
