// The conformance harness: tensors on the backend under test, float64 comparisons with tolerances, gradient checks.
import { createRng, type Rng } from '../rng.js';
import { scope } from '../scope.js';
import { fromArray } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { finiteDiffGrads, ref, type Ref } from './reference.js';

/** Absolute and relative tolerance: |actual − expected| ≤ atol + rtol·|expected|; NaN must meet NaN, ±Inf must match. */
export interface Tolerance {
  /** Absolute part. */ atol: number;
  /** Relative part. */ rtol: number;
}

/** Thrown by a failed check; the suite records it as a failure. */
export class ConformanceMismatch extends Error {}

/** What each case gets: the backend name, a seeded RNG and helpers. */
export interface CaseContext {
  /** Backend under test. */
  backend: string;
  /** Seeded generator (same inputs on every backend). */
  rng: Rng;
  /** Largest error seen so far, relative to the tolerance budget (≤ 1 passes). */
  worst: number;
  /** Uniform host data in [lo, hi), rounded to f32 so the reference sees exactly what the backend sees. */
  data(n: number, lo?: number, hi?: number): Float32Array;
  /** A tensor on the backend under test. */
  tensor(shape: readonly number[], data: Float32Array | Int32Array, requiresGrad?: boolean): Tensor;
  /** Compares actual against expected; throws ConformanceMismatch naming the label and index. */
  check(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void;
}

/** @internal Makes a context for one case. */
export function makeContext(backend: string, seed: number): CaseContext {
  const rng = createRng(seed);
  const ctx: CaseContext = {
    backend,
    rng,
    worst: 0,
    data(n, lo = -2, hi = 2) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng.random();
      return out;
    },
    tensor(shape, data, requiresGrad = false) {
      return fromArray(data, shape, { backend, requiresGrad });
    },
    check(label, actual, expected, tol) {
      if (actual.length !== expected.length) throw new ConformanceMismatch(`${label}: ${actual.length} values, expected ${expected.length}`);
      for (let i = 0; i < actual.length; i++) {
        const a = actual[i];
        const e = expected[i];
        if (e !== e || a !== a) {
          if (e !== e && a !== a) continue;
          throw new ConformanceMismatch(`${label}[${i}]: got ${a}, expected ${e}`);
        }
        if (!Number.isFinite(e) || !Number.isFinite(a)) {
          if (a === e) continue;
          throw new ConformanceMismatch(`${label}[${i}]: got ${a}, expected ${e}`);
        }
        const budget = tol.atol + tol.rtol * Math.abs(e);
        const ratio = Math.abs(a - e) / budget;
        if (ratio > ctx.worst) ctx.worst = ratio;
        if (ratio > 1) throw new ConformanceMismatch(`${label}[${i}]: got ${a}, expected ${e} (|Δ| ${Math.abs(a - e).toExponential(2)} > ${budget.toExponential(2)})`);
      }
    },
  };
  return ctx;
}

/** One input of a gradient case. */
export interface InputSpec {
  /** Shape. */ shape: readonly number[];
  /** Value range (default [−2, 2)). */ range?: [number, number];
  /** Explicit data instead of random. */ data?: Float32Array;
  /** Check this input's gradient (default true). */ grad?: boolean;
}

/**
 * Runs `op` on the backend and `reference` in float64 on the same inputs; compares the output, then
 * the gradients of Σ out ⊙ seed against central finite differences of the float64 reference.
 */
export function checkOp(
  ctx: CaseContext,
  label: string,
  inputs: readonly InputSpec[],
  op: (xs: Tensor[]) => Tensor,
  reference: (xs: Ref[]) => Ref,
  tol: { forward: Tolerance; grad?: Tolerance },
): void {
  const host = inputs.map((s) => s.data ?? ctx.data(s.shape.reduce((p, d) => p * d, 1), s.range?.[0], s.range?.[1]));
  const refs = inputs.map((s, i) => ref(s.shape, host[i]));
  const expected = reference(refs);
  scope(() => {
    const xs = inputs.map((s, i) => ctx.tensor(s.shape, host[i], tol.grad !== undefined && s.grad !== false));
    const out = op(xs);
    if (out.shape.join(',') !== expected.shape.join(',')) {
      throw new ConformanceMismatch(`${label}: output shape (${out.shape.join(', ')}), expected (${expected.shape.join(', ')})`);
    }
    ctx.check(`${label} forward`, out.data(), expected.data, tol.forward);
    if (tol.grad === undefined) return;
    try {
      const seedHost = ctx.data(out.size, -1, 1);
      out.backward(ctx.tensor(out.shape, seedHost));
      const wrt = inputs.map((s, i) => (s.grad === false ? -1 : i)).filter((i) => i >= 0);
      const fd = finiteDiffGrads(reference, refs, Float64Array.from(seedHost), wrt);
      wrt.forEach((k, j) => {
        const g = xs[k].grad;
        if (g === null) throw new ConformanceMismatch(`${label}: input ${k} got no gradient`);
        ctx.check(`${label} grad[${k}]`, g.data(), fd[j], tol.grad!);
      });
    } finally {
      for (const x of xs) x.zeroGrad();
    }
  });
}
