// LayerNorm and RMSNorm over the last dim on the gpu backend, forward and backward.
import type { Storage, View } from '../../../backend.js';
import { columnSum, rowMap, rowReduce } from './row-stats.js';
import type { GpuRuntime } from '../runtime.js';
import type { GpuStorage } from '../storage.js';
import { lit } from '../source.js';

const SUM = { init: 'let s = 0.0; let bs = 0.0;', result: '(s + bs)' };
const acc = (e: string): string => `bs += ${e}; if (j % 64 == 63) { s += bs; bs = 0.0; }`;

/** Frees intermediates whatever happens. */
function using<T>(temps: GpuStorage[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const t of temps) t.release();
  }
}

/** LayerNorm: y = (x − mean)·rstd·w + b, with mean and rstd = 1/√(var + eps) per row. */
export function layernorm(rt: GpuRuntime, x: View, w: View, b: View | null, eps: number): [Storage, Storage, Storage] {
  const c = x.shape[x.shape.length - 1]!;
  const mean = rowReduce(rt, 'ln_mean', x, { ...SUM, step: acc('v'), result: `${SUM.result} / ${lit(c)}` });
  const rstd = rowReduce(rt, `ln_rstd${eps}`, x, { ...SUM, step: acc('(v - r0) * (v - r0)'), result: `1.0 / Math.sqrt(${SUM.result} / ${lit(c)} + ${lit(eps)})` }, [], [mean]);
  const y = rowMap(rt, b === null ? 'ln_y' : 'ln_yb', [x], [mean, rstd], b === null ? [w] : [w, b],
    b === null ? 'const r = (v0 - r0) * r1 * c0;' : 'const r = (v0 - r0) * r1 * c0 + c1;');
  return [y, mean, rstd];
}

/** LayerNorm backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w; dw = Σ dy·x̂; db = Σ dy. */
export function layernormGrad(rt: GpuRuntime, x: View, w: View, mean: View, rstd: View, dy: View): [Storage, Storage, Storage] {
  const c = x.shape[x.shape.length - 1]!;
  const m = mean.storage as GpuStorage;
  const r = rstd.storage as GpuStorage;
  const gMean = rowReduce(rt, 'ln_gmean', x, { ...SUM, step: acc('w1 * c0'), result: `${SUM.result} / ${lit(c)}` }, [dy], [], [w]);
  return using([gMean], () => {
    const gxMean = rowReduce(rt, 'ln_gxmean', x, { ...SUM, step: acc('w1 * c0 * (v - r0) * r1'), result: `${SUM.result} / ${lit(c)}` }, [dy], [m, r], [w]);
    return using([gxMean], () => {
      const dx = rowMap(rt, 'ln_dx', [x, dy], [m, r, gMean, gxMean], [w],
        'const r = r1 * (v1 * c0 - r2 - (v0 - r0) * r1 * r3);');
      const dw = columnSum(rt, 'ln_dw', [x, dy], [m, r], 'v1 * (v0 - r0) * r1');
      const db = columnSum(rt, 'ln_db', [dy], [], 'v0');
      return [dx, dw, db];
    });
  });
}

/** RMSNorm: y = x·rstd·w with rstd = 1/√(mean(x²) + eps) per row. */
export function rmsnorm(rt: GpuRuntime, x: View, w: View, eps: number): [Storage, Storage] {
  const c = x.shape[x.shape.length - 1]!;
  const rstd = rowReduce(rt, `rms_rstd${eps}`, x, { ...SUM, step: acc('v * v'), result: `1.0 / Math.sqrt(${SUM.result} / ${lit(c)} + ${lit(eps)})` });
  const y = rowMap(rt, 'rms_y', [x], [rstd], [w], 'const r = v0 * r0 * c0;');
  return [y, rstd];
}

/** RMSNorm backward: dx = rstd·(g − x̂·mean(g·x̂)) with g = dy·w, x̂ = x·rstd; dw = Σ dy·x̂. */
export function rmsnormGrad(rt: GpuRuntime, x: View, w: View, rstd: View, dy: View): [Storage, Storage] {
  const c = x.shape[x.shape.length - 1]!;
  const r = rstd.storage as GpuStorage;
  const gx = rowReduce(rt, 'rms_gx', x, { ...SUM, step: acc('w1 * c0 * v * r0'), result: `${SUM.result} / ${lit(c)}` }, [dy], [r], [w]);
  return using([gx], () => {
    const dx = rowMap(rt, 'rms_dx', [x, dy], [r, gx], [w], 'const r = r0 * (v1 * c0 - v0 * r0 * r1);');
    const dw = columnSum(rt, 'rms_dw', [x, dy], [r], 'v1 * v0 * r0');
    return [dx, dw];
  });
}
