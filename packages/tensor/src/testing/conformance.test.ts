// Runs the conformance suite on the cpu backend: every case must pass, and every kernel must be covered.
import { describe, expect, it } from 'vitest';
import { runConformance, runConformanceCase, conformanceCases, KERNEL_NAMES } from '../index.js';

describe('conformance on cpu', () => {
  it.each(conformanceCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = runConformanceCase(c, 'cpu');
    expect(r.reason ?? '').toBe('');
    expect(r.status).toBe('pass');
  });

  it('covers every kernel and reports skips with a reason', () => {
    const report = runConformance('cpu', { filter: 'rope', skip: { rope: 'demonstrating a named skip' } });
    expect(report.skipped).toBe(1);
    expect(report.results[0].reason).toBe('demonstrating a named skip');
    const covered = new Set(conformanceCases.flatMap((c) => c.kernels));
    expect(KERNEL_NAMES.filter((k) => !covered.has(k))).toEqual([]);
  });
});
