// Builders for gpu.js kernel source text: shapes, strides and offsets are baked in as literals, one shader per layout.
import type { View } from '../../backend.js';

/**
 * A number as a JavaScript literal gpu.js can translate to GLSL without exponent notation
 * (it would otherwise emit `1e-05.0`). Non-finite values are not representable and throw.
 */
export function lit(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`gpu kernel literal must be finite, got ${x}`);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return `${x}.0`;
  const s = String(x);
  if (!s.includes('e')) return s;
  return x.toFixed(Math.min(100, Math.max(0, -Math.floor(Math.log10(Math.abs(x))) + 9)));
}

/** Integer literal (for index arithmetic). */
export function ilit(x: number): string {
  return String(Math.trunc(x));
}

/**
 * Lines that split the linear index `o` of a row-major `shape` into per-dim index variables
 * `${prefix}0 … ${prefix}{n-1}`.
 */
export function decompose(shape: readonly number[], o: string, prefix: string): string {
  const lines: string[] = [];
  let inner = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const dim = shape[d]!;
    const q = inner === 1 ? o : `Math.floor(${o} / ${ilit(inner)})`;
    lines.push(d === 0 ? `const ${prefix}${d} = ${q};` : `const ${prefix}${d} = ${q} % ${ilit(dim)};`);
    inner *= dim;
  }
  return lines.join('\n');
}

/** The storage index of element (`${prefix}0`, …) of a strided view, skipping broadcast (stride 0) dims. */
export function at(view: View, prefix: string, dimOffset = 0): string {
  const terms = [ilit(view.offset)];
  view.strides.forEach((s, d) => {
    if (s !== 0 && view.shape[d] !== 1) terms.push(`${prefix}${d + dimOffset} * ${ilit(s)}`);
  });
  return terms.join(' + ');
}

/** A key fragment that identifies a view's layout (and its storage size, which gpu.js bakes into the shader). */
export function layoutKey(view: View): string {
  return `${view.storage.size}|${view.shape.join('x')}|${view.strides.join(',')}|${view.offset}`;
}

/** Product of the dims. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when the view is row-major with offset 0 over its whole storage. */
export function isContiguous(view: View): boolean {
  if (view.offset !== 0) return false;
  let expected = 1;
  for (let d = view.shape.length - 1; d >= 0; d--) {
    if (view.shape[d] !== 1 && view.strides[d] !== expected) return false;
    expected *= view.shape[d]!;
  }
  return true;
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

/**
 * Loop iterations one shader invocation may run: Mesa's llvmpipe counts every iteration of every
 * loop against one limiter per invocation and silently stops looping at 65535.
 */
const ITERATION_BUDGET = 16384;

/**
 * A loop over `count` values of `v` (from `start`) running `body`. Past ITERATION_BUDGET
 * iterations the body is unrolled textually (each copy in its own guarded block), so a whole
 * shader stays under llvmpipe's cap of 65535 iterations per invocation.
 */
export function forLoop(v: string, count: number, body: string, start = 0): string {
  if (count <= 0) return '';
  const first = start === 0 ? '' : `${ilit(start)} + `;
  const unroll = Math.ceil(count / ITERATION_BUDGET);
  if (unroll === 1) {
    return `for (let ${v}_l = 0; ${v}_l < ${ilit(count)}; ${v}_l++) {
    const ${v} = ${first}${v}_l;
    ${body}
  }`;
  }
  const iterations = Math.ceil(count / unroll);
  const copies: string[] = [];
  for (let u = 0; u < unroll; u++) {
    copies.push(`if (${v}_l * ${unroll} + ${u} < ${ilit(count)}) {
      const ${v} = ${first}${v}_l * ${unroll} + ${u};
      ${body}
    }`);
  }
  return `for (let ${v}_l = 0; ${v}_l < ${ilit(iterations)}; ${v}_l++) {
    ${copies.join('\n    ')}
  }`;
}

/** A view split into its rows (all dims but the last) and its last dim. */
export interface Rows {
  /** The view with the last dim dropped: `at(rows, 'i')` is the storage index of a row's first element. */
  rows: View;
  /** Length of the last dim. */
  c: number;
  /** Stride of the last dim. */
  cs: number;
  /** Number of rows. */
  count: number;
}

/** Splits `x` into rows over its last dim. */
export function rowsOf(x: View): Rows {
  const r = x.shape.length;
  const rows: View = { storage: x.storage, shape: x.shape.slice(0, r - 1), strides: x.strides.slice(0, r - 1), offset: x.offset };
  return { rows, c: x.shape[r - 1]!, cs: x.strides[r - 1]!, count: numel(rows.shape) };
}
