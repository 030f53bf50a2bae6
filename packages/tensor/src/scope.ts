// Memory scopes: `scope(fn)` disposes every tensor created inside except the ones it returns.
import { TensorError } from './errors.js';
import type { Tensor } from './tensor.js';

const stack: Tensor[][] = [];

/** @internal Records a new tensor in the innermost open scope. */
export function trackTensor(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (top !== undefined) top.push(t);
}

function collect(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, isTensor, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collect(v, out, isTensor, depth + 1);
  }
}

/**
 * Runs `fn` and then disposes every tensor created during it, except the tensors it returns
 * (directly, or inside arrays / plain objects / Maps), which move to the enclosing scope.
 * Tensors marked with `keep()` and gradients stored in `.grad` survive. `fn` must be synchronous.
 *
 * @example
 * const loss = scope(() => model.forward(x).mean()); // the intermediate activations are freed
 */
export function scope<T>(fn: () => T): T {
  const mine: Tensor[] = [];
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    stack.pop();
    for (const t of mine) if (!t.kept) t.dispose();
    throw error;
  }
  stack.pop();
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    for (const t of mine) if (!t.kept) t.dispose();
    throw new TensorError('TENSOR_BAD_ARGUMENT', 'scope(fn): fn returned a Promise; scopes are synchronous', {
      hint: 'await outside the scope, or wrap each synchronous step in its own scope()',
    });
  }
  const returned = new Set<Tensor>();
  collect(result, returned, (v: unknown): v is Tensor => typeof v === 'object' && v !== null && (v as { isTensor?: unknown }).isTensor === true);
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (returned.has(t)) parent?.push(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

/** Marks a tensor so no scope disposes it (parameters, optimizer state); returns it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}
