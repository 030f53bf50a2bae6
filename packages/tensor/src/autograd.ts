// Reverse-mode autograd: the graph record each op leaves on its output, `noGrad`, and the topological backward pass.
import { TensorError, fmtShape } from './errors.js';
import { full } from './ops/creation.js';
import { GradSum, type GradContribution } from './internal/grad-sum.js';
import { castRaw } from './ops/dtype.js';
import { binaryRaw } from './ops/elementwise.js';
import { contiguous } from './ops/views.js';
import { releaseHolds, scope } from './scope.js';
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
  /**
   * Given d(loss)/d(output), returns d(loss)/d(input) per input (null where none is needed), or a
   * `SliceGrad` where it is zero outside one slice of the input (slice, split).
   */
  backward(g: Tensor): GradContribution[];
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
export function record(out: Tensor, name: string, inputs: Tensor[], backward: (g: Tensor) => GradContribution[]): Tensor {
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
      if (next.requiresGrad && next.isDisposed) throw graphFreed(t.gradFn!.name, i, next);
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
      const grads = new Map<Tensor, GradSum>();
      const sumFor = (t: Tensor): GradSum => {
        let s = grads.get(t);
        if (s === undefined) grads.set(t, (s = new GradSum(t.shape, o.add)));
        return s;
      };
      sumFor(root).push(seed ?? o.onesLike(root), 'backward');
      for (let n = order.length - 1; n >= 0; n--) {
        const t = order[n];
        const g = grads.get(t)?.result();
        if (g === undefined || g === null) continue;
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
        const fn = t.gradFn;
        const inputGrads = backwardOf(fn, g);
        fn.inputs.forEach((input, k) => {
          const ig = inputGrads[k];
          if (ig === null || ig === undefined || !input.requiresGrad) return;
          sumFor(input).push(ig, fn.name);
        });
      }
    });
  } finally {
    gradEnabled = prevEnabled;
  }
  // The pass consumed the graph: what ended scopes kept alive for it is freed now (see scope()).
  for (const t of order) {
    t.backwardDone = true;
    releaseHolds(t);
  }
}

const FREED_HINT = 'call backward() inside the scope() that ran the forward pass, or return the loss from that scope '
  + '(its graph then stays alive until the loss is disposed); do not dispose() tensors of the graph before backward';

// NOTE: a disposed tensor has lost its gradFn, so walking past it would treat it as a leaf and leave
// the parameters' grads silently null; the walk refuses it instead.
function graphFreed(op: string, index: number, input: Tensor): TensorError {
  return new TensorError('TENSOR_GRAPH_FREED', `backward: input ${index} ${fmtShape(input.shape)} of '${op}' was disposed before backward, so no gradient can flow through it`, {
    hint: FREED_HINT,
    details: { op, input: index, shape: [...input.shape] },
  });
}

// Runs one node's backward, naming the node when a tensor it saved from the forward pass was freed.
function backwardOf(fn: GradFn, g: Tensor): GradContribution[] {
  try {
    return fn.backward(g);
  } catch (error) {
    if (!(error instanceof TensorError) || error.code !== 'TENSOR_DISPOSED') throw error;
    throw new TensorError('TENSOR_GRAPH_FREED', `backward of '${fn.name}': a tensor it saved from the forward pass was disposed (${error.message})`, {
      hint: FREED_HINT,
      details: { op: fn.name },
      cause: error,
    });
  }
}
