// Per-row statistics over the last dim (logsumexp, mean, rstd, dot products) that the fused gpu kernels share.
import type { View } from '../../../backend.js';
import { launch, type Arg } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import type { GpuStorage } from '../storage.js';
import { at, decompose, forLoop, layoutKey, lit, rowsOf } from '../source.js';

/**
 * One value per row of `x` (…, C): `init` runs once, `step` once per element with `v` bound to
 * x[row, j] (and `w{k}` to each extra view at the same position), `result` is returned.
 * Extra views must have x's shape; `rowArgs` are per-row inputs read as `r{k}` (contiguous, one per row);
 * `colArgs` are length-C views read at column j as `c{k}`.
 */
export function rowReduce(
  rt: GpuRuntime, op: string, x: View, spec: { init: string; step: string; result: string; passes?: { init: string; step: string }[] },
  extra: readonly View[] = [], rowArgs: readonly GpuStorage[] = [], colArgs: readonly View[] = [],
): GpuStorage {
  const { rows, c, count } = rowsOf(x);
  const views = [x, ...extra];
  const params = [...views.map((_, k) => `x${k}`), ...rowArgs.map((_, k) => `q${k}`), ...colArgs.map((_, k) => `p${k}`)];
  const reads = (j: string): string => [
    ...views.map((v, k) => {
      const { rows: rv, cs } = rowsOf(v);
      return `const ${k === 0 ? 'v' : `w${k}`} = x${k}[${at(rv, 'i')} + ${j} * ${cs}];`;
    }),
    ...colArgs.map((v, k) => `const c${k} = p${k}[${v.offset} + ${j} * ${v.strides[0]}];`),
  ].join('\n    ');
  const passes = [{ init: spec.init, step: spec.step }, ...(spec.passes ?? [])];
  const source = `function(${params.join(', ')}) {
  const o = this.thread.x;
  ${decompose(rows.shape, 'o', 'i')}
  ${rowArgs.map((_, k) => `const r${k} = q${k}[o];`).join('\n  ')}
  ${passes.map((p) => `${p.init}
  ${forLoop('j', c, `${reads('j')}
    ${p.step}`)}`).join('\n  ')}
  return ${spec.result};
}`;
  const key = `row:${op}:${views.map(layoutKey).join(';')}:${rowArgs.map((s) => s.size).join(',')}:${colArgs.map(layoutKey).join(';')}`;
  const args: Arg[] = [...views, ...rowArgs, ...colArgs];
  return launch(rt, op, { key, source, output: [count] }, args, count) as GpuStorage;
}

/** Natural-log logsumexp of each row of `x`, scaled by `scale` first (max-shifted, so it never overflows). */
export function rowLogSumExp(rt: GpuRuntime, x: View, scale = 1): GpuStorage {
  return rowReduce(rt, `lse${scale}`, x, {
    init: 'let m = -(1.0 / 0.0);',
    step: `const sv = v * ${lit(scale)}; if (sv > m || sv != sv) { m = sv; }`,
    passes: [{ init: 'let s = 0.0; let bs = 0.0;', step: `bs += Math.exp(v * ${lit(scale)} - m); if (j % 64 == 63) { s += bs; bs = 0.0; }` }],
    result: '(m != m || Math.abs(m) > 3.4e38) ? m : m + Math.log(s + bs)',
  });
}

/** Σ_j x[row, j]·y[row, j] for each row. */
export function rowDot(rt: GpuRuntime, x: View, y: View): GpuStorage {
  return rowReduce(rt, 'dot', x, {
    init: 'let s = 0.0; let bs = 0.0;', step: 'bs += v * w1; if (j % 64 == 63) { s += bs; bs = 0.0; }', result: 's + bs',
  }, [y]);
}

/** Σ_j x[row, j] for each row. */
export function rowSum(rt: GpuRuntime, x: View): GpuStorage {
  return rowReduce(rt, 'rowsum', x, {
    init: 'let s = 0.0; let bs = 0.0;', step: 'bs += v; if (j % 64 == 63) { s += bs; bs = 0.0; }', result: 's + bs',
  });
}

/**
 * An elementwise kernel over rows: output (…, C) contiguous, `body` sets `r` from `v{k}` (each view
 * of x's shape at this element), `r{k}` (per-row storages, e.g. mean or lse), `c{k}` (length-C
 * views at this column, e.g. weight and bias) and `j` (the column).
 */
export function rowMap(
  rt: GpuRuntime, op: string, views: readonly View[], rowArgs: readonly GpuStorage[], colArgs: readonly View[], body: string,
): GpuStorage {
  const x = views[0]!;
  const n = x.shape.length;
  const c = x.shape[n - 1]!;
  const size = rowsOf(x).count * c;
  const params = [...views.map((_, k) => `x${k}`), ...rowArgs.map((_, k) => `q${k}`), ...colArgs.map((_, k) => `p${k}`)];
  const source = `function(${params.join(', ')}) {
  const o = this.thread.x;
  ${decompose(x.shape, 'o', 'i')}
  const j = i${n - 1};
  const row = Math.floor(o / ${c});
  ${views.map((v, k) => `const v${k} = x${k}[${at(v, 'i')}];`).join('\n  ')}
  ${rowArgs.map((_, k) => `const r${k} = q${k}[row];`).join('\n  ')}
  ${colArgs.map((v, k) => `const c${k} = p${k}[${v.offset} + j * ${v.strides[0]}];`).join('\n  ')}
  ${body}
  return r;
}`;
  const key = `rowmap:${op}:${views.map(layoutKey).join(';')}:${rowArgs.map((s) => s.size).join(',')}:${colArgs.map(layoutKey).join(';')}`;
  return launch(rt, op, { key, source, output: [size] }, [...views, ...rowArgs, ...colArgs], size) as GpuStorage;
}

/** Σ over rows of `expr` for each column j of (…, C) views: `v{k}` are the views at (row, j), `r{k}` per-row storages. */
export function columnSum(rt: GpuRuntime, op: string, views: readonly View[], rowArgs: readonly GpuStorage[], expr: string): GpuStorage {
  const x = views[0]!;
  const { c, count } = rowsOf(x);
  const params = [...views.map((_, k) => `x${k}`), ...rowArgs.map((_, k) => `q${k}`)];
  const reads = views.map((v, k) => {
    const { rows, cs } = rowsOf(v);
    return `const v${k} = x${k}[${at(rows, 'i')} + j * ${cs}];`;
  }).join('\n    ');
  const source = `function(${params.join(', ')}) {
  const j = this.thread.x;
  let s = 0.0;
  let bs = 0.0;
  ${forLoop('row', count, `${decompose(rowsOf(x).rows.shape, 'row', 'i')}
    ${reads}
    ${rowArgs.map((_, k) => `const r${k} = q${k}[row];`).join('\n    ')}
    bs += ${expr};
    if (row % 64 == 63) { s += bs; bs = 0.0; }`)}
  return s + bs;
}`;
  const key = `colsum:${op}:${views.map(layoutKey).join(';')}:${rowArgs.map((s) => s.size).join(',')}`;
  return launch(rt, op, { key, source, output: [c] }, [...views, ...rowArgs], c) as GpuStorage;
}
