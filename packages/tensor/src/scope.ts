// Memory scopes: `scope(fn)` disposes every tensor created inside except the ones it returns (and what their graph needs).
import { TensorError } from './errors.js';
import type { Tensor } from './tensor.js';

const stack: Tensor[][] = [];

/**
 * @internal The tensors of an ended scope that an escaping autograd graph may still need (saved
 * activations its backward closures read), freed when the last tensor holding them is disposed.
 */
export interface GraphHold {
  /** The scope's tensors, not yet disposed. */
  tensors: Tensor[];
  /** Live returned tensors that carry the graph. */
  holders: number;
}

/** @internal Drops `t`'s share of the scopes it holds (on dispose, and once backward has run through it). */
export function releaseHolds(t: Tensor): void {
  const holds = t.holds;
  t.holds = [];
  for (const hold of holds) {
    hold.holders--;
    if (hold.holders > 0) continue;
    const tensors = hold.tensors;
    hold.tensors = [];
    for (const x of tensors) x.dispose();
  }
}

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
 * When a returned tensor carries an autograd graph that backward has not run through yet, the
 * scope's other tensors are not freed at once: backward needs them, so they live until backward
 * runs through that tensor (once: a second backward throws TENSOR_GRAPH_FREED) or it is disposed.
 *
 * @example
 * scope(() => model.forward(x).mean().backward());  // activations freed when the scope ends
 * const loss = scope(() => model.forward(x).mean()); // activations live on with loss's graph
 * loss.backward();                                   // ... until backward has run
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
  const rest: Tensor[] = [];
  const carriers: Tensor[] = [];
  for (const t of mine) {
    if (returned.has(t)) {
      parent?.push(t);
      if (t.gradFn !== null && !t.backwardDone) carriers.push(t);
    } else if (!t.kept) rest.push(t);
  }
  // NOTE: a returned tensor with a graph that backward has not run through yet may still be
  // backpropagated; its backward closures read tensors of this scope that no API lists (saved
  // activations), so all of them stay alive until backward runs or the last such tensor is disposed
  // (torch keeps saved tensors alive with the grad_fn and frees them after backward the same way).
  if (carriers.length === 0) {
    for (const t of rest) t.dispose();
  } else if (rest.length > 0) {
    const hold: GraphHold = { tensors: rest, holders: carriers.length };
    for (const t of carriers) t.holds.push(hold);
  }
  return result;
}

/** Marks a tensor so no scope disposes it (parameters, optimizer state); returns it. */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}
