// The conformance suite every backend runs: each kernel against float64 references and finite-difference gradients.
import { hasKernel } from '../backend.js';
import { KERNEL_NAMES, type KernelName } from '../kernels/names.js';
import { basicCases } from './cases-basic.js';
import { nnCases } from './cases-nn.js';
import { ConformanceMismatch, makeContext, type CaseContext } from './harness.js';

/** One conformance case: what it covers and how to run it. */
export interface ConformanceCaseDef {
  /** What is checked, in words (shapes, corners). */
  name: string;
  /** Kernels it exercises. */
  kernels: readonly KernelName[];
  /** Runs the checks; throws ConformanceMismatch on a difference. */
  run(ctx: CaseContext): void;
}

/** The outcome of one case on one backend. */
export interface ConformanceResult {
  /** Case name. */
  name: string;
  /** Kernels exercised. */
  kernels: readonly KernelName[];
  /** pass, fail, or skip (with `reason`). */
  status: 'pass' | 'fail' | 'skip';
  /** Largest |error| as a fraction of its tolerance budget (≤ 1 passes). */
  worst: number;
  /** Why it failed or was skipped. */
  reason?: string;
  /** Milliseconds taken. */
  ms: number;
}

/** Options of `runConformance`. */
export interface ConformanceOptions {
  /** Cases to skip, by name prefix → the reason (required, so every skip says why). */
  skip?: Record<string, string>;
  /** Only run cases whose name includes this text (default all). */
  filter?: string;
  /** RNG seed of the inputs (default 1234). */
  seed?: number;
}

/** Every case of the suite, in order. */
export const conformanceCases: readonly ConformanceCaseDef[] = [...basicCases, ...nnCases];

/** Runs one case on a backend and reports the outcome (never throws for a mismatch). */
export function runConformanceCase(c: ConformanceCaseDef, backend: string, options: ConformanceOptions = {}): ConformanceResult {
  const start = performance.now();
  const base = { name: c.name, kernels: c.kernels };
  const skip = Object.entries(options.skip ?? {}).find(([prefix]) => c.name.startsWith(prefix));
  if (skip !== undefined) return { ...base, status: 'skip', worst: 0, reason: skip[1], ms: 0 };
  const missing = c.kernels.filter((k) => !hasKernel(k, backend));
  if (missing.length > 0) return { ...base, status: 'skip', worst: 0, reason: `backend '${backend}' has no kernel ${missing.join(', ')}`, ms: 0 };
  const ctx = makeContext(backend, options.seed ?? 1234);
  try {
    c.run(ctx);
    return { ...base, status: 'pass', worst: ctx.worst, ms: performance.now() - start };
  } catch (error) {
    const reason = error instanceof ConformanceMismatch ? error.message : `threw ${(error as Error)?.stack ?? String(error)}`;
    return { ...base, status: 'fail', worst: ctx.worst, reason, ms: performance.now() - start };
  }
}

/** The suite's report for one backend. */
export interface ConformanceReport {
  /** Backend tested. */
  backend: string;
  /** One result per case. */
  results: ConformanceResult[];
  /** Kernels no case exercised on this backend (missing kernels show up as skips). */
  uncovered: KernelName[];
  /** Count of passes, failures and skips. */
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Runs the whole conformance suite on a backend.
 *
 * @example
 * const report = runConformance('gpu', { skip: { 'cast:': 'no 16-bit textures' } });
 * if (report.failed > 0) console.error(report.results.filter((r) => r.status === 'fail'));
 */
export function runConformance(backend: string, options: ConformanceOptions = {}): ConformanceReport {
  const cases = conformanceCases.filter((c) => options.filter === undefined || c.name.includes(options.filter));
  const results = cases.map((c) => runConformanceCase(c, backend, options));
  const covered = new Set(results.filter((r) => r.status === 'pass').flatMap((r) => r.kernels));
  return {
    backend,
    results,
    uncovered: KERNEL_NAMES.filter((k) => !covered.has(k)),
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    skipped: results.filter((r) => r.status === 'skip').length,
  };
}
