// Elementwise gpu kernels: unary ops, their backward, and broadcasting binary ops over strided views.
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, decompose, layoutKey, numel } from '../source.js';

// NOTE: Mesa's llvmpipe returns 0 for log(0) and sqrt(-1), so the IEEE special cases are spelled out;
// tanh is written as (1 − e^(−2|x|)) / (1 + e^(−2|x|)) because gpu.js's own tanh overflows to NaN at |x| > 44.
const NAN = '(0.0 / 0.0)';
const INF = '(1.0 / 0.0)';
const tanhOf = (x: string): string => `((${x}) < 0.0 ? -((1.0 - Math.exp(2.0 * (${x}))) / (1.0 + Math.exp(2.0 * (${x})))) : ((1.0 - Math.exp(-2.0 * (${x}))) / (1.0 + Math.exp(-2.0 * (${x})))))`;
const sigmoidOf = (x: string): string => `((${x}) >= 0.0 ? 1.0 / (1.0 + Math.exp(-(${x}))) : Math.exp(${x}) / (1.0 + Math.exp(${x})))`;
// erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7).
const ERF = `const ea = Math.abs(z);
  const et = 1.0 / (1.0 + 0.3275911 * ea);
  const ep = et * (0.254829592 + et * (-0.284496736 + et * (1.421413741 + et * (-1.453152027 + et * 1.061405429))));
  const eabs = 1.0 - ep * Math.exp(-ea * ea);
  const erf = z < 0.0 ? -eabs : eabs;`;
const GELU_K = Math.sqrt(2 / Math.PI);

/** Statement bodies computing `r` from `v` (the input element) for each unary kernel. */
const UNARY: Record<string, string> = {
  neg: 'const r = -v;',
  exp: 'const r = Math.exp(v);',
  log: `const r = v != v ? v : (v < 0.0 ? ${NAN} : (v == 0.0 ? -${INF} : Math.log(v)));`,
  sqrt: `const r = v != v ? v : (v < 0.0 ? ${NAN} : Math.sqrt(v));`,
  tanh: `const r = v != v ? v : ${tanhOf('v')};`,
  abs: 'const r = Math.abs(v);',
  sigmoid: `const r = v != v ? v : ${sigmoidOf('v')};`,
  relu: 'const r = v != v ? v : (v < 0.0 ? 0.0 : v);',
  gelu: `const u = ${GELU_K} * (v + 0.044715 * v * v * v);
  const r = v != v ? v : (0.5 * v * (1.0 + ${tanhOf('u')}));`,
  gelu_erf: `const z = v * ${Math.SQRT1_2};
  ${ERF}
  const r = v != v ? v : 0.5 * v * (1.0 + erf);`,
  silu: `const r = v != v ? v : v * ${sigmoidOf('v')};`,
};

/** Statement bodies computing `r` from `v` (x) and `g` (dy) for each unary backward kernel. */
const UNARY_GRAD: Record<string, string> = {
  relu_grad: 'const r = v > 0.0 ? g : 0.0 * g;',
  gelu_grad: `const u = ${GELU_K} * (v + 0.044715 * v * v * v);
  const t = ${tanhOf('u')};
  const r = g * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * ${GELU_K} * (1.0 + 3.0 * 0.044715 * v * v));`,
  gelu_erf_grad: `const z = v * ${Math.SQRT1_2};
  ${ERF}
  const r = g * (0.5 * (1.0 + erf) + v * Math.exp(-0.5 * v * v) * ${1 / Math.sqrt(2 * Math.PI)});`,
  silu_grad: `const s = ${sigmoidOf('v')};
  const r = g * (s * (1.0 + v * (1.0 - s)));`,
};

/** Expressions of `a` and `b` for each binary kernel. */
const BINARY: Record<string, string> = {
  add: 'const r = a + b;',
  sub: 'const r = a - b;',
  mul: 'const r = a * b;',
  div: 'const r = a / b;',
  // Math.pow semantics: negative bases with integer exponents keep their sign, NaN otherwise.
  pow: `const ab = Math.abs(a);
  const p = ab == 0.0 ? (b > 0.0 ? 0.0 : (b < 0.0 ? ${INF} : 1.0)) : Math.pow(ab, b);
  const oddness = Math.abs(b - 2.0 * Math.floor(b / 2.0));
  const r = b == 0.0 ? 1.0 : (a != a || b != b ? ${NAN} : ((a < 0.0 && Math.floor(b) != b) ? ${NAN} : (((a < 0.0 || 1.0 / a < 0.0) && oddness == 1.0) ? -p : p)));`,
  maximum: 'const r = (a > b || a != a) ? a : b;',
  eq: 'const r = a == b ? 1.0 : 0.0;',
  gt: 'const r = a > b ? 1.0 : 0.0;',
};

/** Source of a kernel reading each view at the output index and returning `r`. */
function mapSource(shape: readonly number[], views: readonly View[], names: readonly string[], body: string): string {
  const reads = views.map((v, i) => `const ${names[i]} = ${argName(i)}[${at(v, 'i')}];`).join('\n  ');
  return `function(${views.map((_, i) => argName(i)).join(', ')}) {
  const o = this.thread.x;
  ${decompose(shape, 'o', 'i')}
  ${reads}
  ${body}
  return r;
}`;
}

const argName = (i: number): string => `x${i}`;

/** Runs an elementwise op `name` with `body` over `views` (all of the output shape). */
function map(rt: GpuRuntime, name: string, body: string, views: readonly View[], names: readonly string[]): Storage {
  const shape = views[0]!.shape;
  const n = numel(shape);
  const key = `${name}:${views.map(layoutKey).join(';')}`;
  return launch(rt, name, { key, source: mapSource(shape, views, names, body), output: [n] }, views, n);
}

/** A unary kernel (neg, exp, …, silu). */
export function unary(rt: GpuRuntime, name: string, x: View): Storage {
  return map(rt, name, UNARY[name]!, [x], ['v']);
}

/** A unary backward kernel: dx = dy·f'(x). */
export function unaryGrad(rt: GpuRuntime, name: string, x: View, dy: View): Storage {
  return map(rt, name, UNARY_GRAD[name]!, [x, dy], ['v', 'g']);
}

/** A binary kernel over views already broadcast to the output shape. */
export function binary(rt: GpuRuntime, name: string, a: View, b: View): Storage {
  return map(rt, name, BINARY[name]!, [a, b], ['a', 'b']);
}

/** Names of the kernels this file implements. */
export const UNARY_NAMES = Object.keys(UNARY);
/** Names of the unary backward kernels this file implements. */
export const UNARY_GRAD_NAMES = Object.keys(UNARY_GRAD);
/** Names of the binary kernels this file implements. */
export const BINARY_NAMES = Object.keys(BINARY);
