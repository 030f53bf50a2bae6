// Reverse-mode autograd: the graph record each op leaves on its output, `noGrad`, and the topological backward pass.
import { TensorError, fmtShape } from './errors.js';
import { full } from './ops/creation.js';
import { castRaw } from './ops/dtype.js';
import { binaryRaw } from './ops/elementwise.js';
import { contiguous } from './ops/views.js';
import { scope } from './scope.js';
import { Tensor } from './tensor.js';

// NOTE: these helpers are imported directly (not installed as hooks at load time) so bundlers that
// honour "sideEffects": false cannot drop the wiring.
const o = {
  add: (a: Tensor, b: Tensor) => binaryRaw('add', a, b),
  onesLike: (t: Tensor) => full(t.shape, 1, { backend: t.backend }),
  contiguousF32: (t: Tensor) => contiguous(t.dtype === 'f32' ? t : castRaw(t, 'f32')),
  alias: (t: Tensor) => new Tensor(t.ref, t.shape, t.strides, t.offset),
};

/** How an op's output maps its gradient back to the op's inputs. */
export interface GradFn {
  /** Op name, for error messages. */
  name: string;
  /** The op's tensor inputs, in order. */
  inputs: Tensor[];
  /** Given d(loss)/d(output), returns d(loss)/d(input) per input (null where none is needed). */
  backward(g: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

/** True while ops record the autograd graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording the autograd graph (inference, optimizer updates).
 *
 * @example
 * const logits = noGrad(() => model.forward(ids));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** @internal Attaches a GradFn to `out` when grad is on and some input requires grad. */
export function record(out: Tensor, name: string, inputs: Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (!gradEnabled) return out;
  let needed = false;
  for (const t of inputs) if (t.requiresGrad) needed = true;
  if (!needed) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs, backward };
  return out;
}

/** @internal The backward pass from `root` with seed `seed` (default ones for a scalar root). */
export function runBackward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) {
    throw new TensorError('TENSOR_NO_GRAD', `backward: the tensor ${fmtShape(root.shape)} does not require grad (no input had requiresGrad, or it was made under noGrad)`, {
      hint: 'create parameters with requiresGrad: true and run the forward pass outside noGrad()',
    });
  }
  if (seed === undefined && root.size !== 1) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `backward: implicit seed needs a one-element tensor, got ${fmtShape(root.shape)}`, {
      hint: 'reduce to a scalar (e.g. .mean()) or pass the seed gradient: t.backward(seed)',
    });
  }
  if (seed !== undefined && seed.shape.join(',') !== root.shape.join(',')) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `backward: seed ${fmtShape(seed.shape)} does not match tensor ${fmtShape(root.shape)}`, {});
  }
  // Iterative post-order DFS gives a topological order without deep recursion.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const next = inputs[i];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  // Every tensor made during the pass is freed at its end except the leaf gradients (own aliases, kept).
  const prevEnabled = gradEnabled;
  gradEnabled = false;
  try {
    scope(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, seed ?? o.onesLike(root));
      for (let n = order.length - 1; n >= 0; n--) {
        const t = order[n];
        const g = grads.get(t);
        if (g === undefined) continue;
        grads.delete(t);
        if (t.gradFn === null) {
          const fresh = o.alias(o.contiguousF32(g));
          if (t.grad === null) {
            t.grad = fresh;
          } else {
            const total = o.alias(o.add(t.grad, fresh));
            t.grad.kept = false;
            t.grad.dispose();
            t.grad = total;
          }
          t.grad.kept = true;
          continue;
        }
        const inputGrads = t.gradFn.backward(g);
        t.gradFn.inputs.forEach((input, k) => {
          const ig = inputGrads[k];
          if (ig === null || ig === undefined || !input.requiresGrad) return;
          if (ig.shape.join(',') !== input.shape.join(',')) {
            throw new Error(`internal: ${t.gradFn!.name} gave grad ${fmtShape(ig.shape)} for input ${fmtShape(input.shape)}`);
          }
          const prev = grads.get(input);
          grads.set(input, prev === undefined ? ig : o.add(prev, ig));
        });
      }
    });
  } finally {
    gradEnabled = prevEnabled;
  }
}
