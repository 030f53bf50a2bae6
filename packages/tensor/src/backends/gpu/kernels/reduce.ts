// Reduction gpu kernels: sum and max over one axis of a strided view (the output drops that axis).
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, decompose, forLoop, layoutKey, numel } from '../source.js';

/** Sum (`sum`) or NaN-propagating max (`max`) of `x` along `axis`. */
export function reduce(rt: GpuRuntime, kind: 'sum' | 'max', x: View, axis: number): Storage {
  const outShape = x.shape.filter((_, d) => d !== axis);
  const outer: View = { storage: x.storage, shape: outShape, strides: x.strides.filter((_, d) => d !== axis), offset: x.offset };
  const len = x.shape[axis]!;
  const step = x.strides[axis]!;
  const n = numel(outShape);
  // NOTE: blocked summation (64-element partial sums): a plain f32 running sum drifts by ~len·ulp, and Kahan's
  // compensation is folded away by Mesa's shader compiler (GLSL ES 1.0 has no `precise`).
  const body = kind === 'sum'
    ? `let s = 0.0;
  let bs = 0.0;
  ${forLoop('r', len, `bs += x[base + r * ${step}];
    if (r % 64 == 63) { s += bs; bs = 0.0; }`)}
  s += bs;`
    : `let s = x[base];
  ${forLoop('r', len - 1, `const v = x[base + r * ${step}];
    if (v > s || v != v) { s = v; }`, 1)}`;
  const source = `function(x) {
  const o = this.thread.x;
  ${decompose(outShape, 'o', 'i')}
  const base = ${at(outer, 'i')};
  ${len === 0 ? (kind === 'sum' ? 'let s = 0.0;' : 'let s = -(1.0 / 0.0);') : body}
  return s;
}`;
  return launch(rt, kind, { key: `${kind}:${axis}:${layoutKey(x)}`, source, output: [n] }, [x], n);
}
