// Elementwise ops with broadcasting and their gradients: add/sub/mul/div/pow/maximum and the unary math/activations.
import { record } from '../autograd.js';
import { expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import { broadcastShapes, broadcastStrides } from '../internal/shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { toFloat } from './dtype.js';
import { sumToShape } from './views.js';

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'eq' | 'gt';
type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'abs' | 'sigmoid' | 'relu' | 'gelu' | 'gelu_erf' | 'silu';

function scalarLike(value: number, like: Tensor): Tensor {
  return full([], value, { backend: like.backend });
}

/** @internal Runs a binary kernel on two broadcast operands (no autograd). */
export function binaryRaw(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, name);
  const run = kernelFor(name, name, [a, b]);
  const av = { ...a.view(name, 'a'), shape, strides: broadcastStrides(a.shape, a.strides, shape, name) };
  const bv = { ...b.view(name, 'b'), shape, strides: broadcastStrides(b.shape, b.strides, shape, name) };
  return wrap(run(av, bv), shape);
}

function operands(name: string, a: Tensor | number, b: Tensor | number): [Tensor, Tensor] {
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta) : b;
  expectDtype(ta, ['f32', 'bf16', 'f16'], name, 'a');
  expectDtype(tb, ['f32', 'bf16', 'f16'], name, 'b');
  return [toFloat(ta), toFloat(tb)];
}

/** a + b with broadcasting. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('add', a, b);
  return record(binaryRaw('add', x, y), 'add', [x, y], (g) => [sumToShape(g, x.shape), sumToShape(g, y.shape)]);
}

/** a − b with broadcasting. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('sub', a, b);
  return record(binaryRaw('sub', x, y), 'sub', [x, y], (g) => [sumToShape(g, x.shape), y.requiresGrad ? sumToShape(neg(g), y.shape) : null]);
}

/** a · b with broadcasting. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('mul', a, b);
  return record(binaryRaw('mul', x, y), 'mul', [x, y], (g) => [
    x.requiresGrad ? sumToShape(binaryRaw('mul', g, y), x.shape) : null,
    y.requiresGrad ? sumToShape(binaryRaw('mul', g, x), y.shape) : null,
  ]);
}

/** a / b with broadcasting. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('div', a, b);
  const out = binaryRaw('div', x, y);
  return record(out, 'div', [x, y], (g) => {
    const gx = binaryRaw('div', g, y);
    return [x.requiresGrad ? sumToShape(gx, x.shape) : null, y.requiresGrad ? sumToShape(neg(binaryRaw('mul', gx, out)), y.shape) : null];
  });
}

/** aᵖ elementwise (p a number or a broadcastable tensor). */
export function pow(a: Tensor, p: Tensor | number): Tensor {
  const [x, y] = operands('pow', a, p);
  const out = binaryRaw('pow', x, y);
  return record(out, 'pow', [x, y], (g) => [
    // d/dx xᵖ = p·xᵖ⁻¹
    x.requiresGrad ? sumToShape(binaryRaw('mul', g, binaryRaw('mul', y, binaryRaw('pow', x, binaryRaw('sub', y, scalarLike(1, y))))), x.shape) : null,
    // d/dp xᵖ = xᵖ·ln x
    y.requiresGrad ? sumToShape(binaryRaw('mul', g, binaryRaw('mul', out, unaryRaw('log', x))), y.shape) : null,
  ]);
}

/** Elementwise max(a, b) (NaN if either is NaN); the gradient goes to the larger (a on ties). */
export function maximum(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('maximum', a, b);
  return record(binaryRaw('maximum', x, y), 'maximum', [x, y], (g) => {
    const yWins = binaryRaw('gt', y, x);
    const gy = binaryRaw('mul', g, yWins);
    return [x.requiresGrad ? sumToShape(binaryRaw('sub', g, gy), x.shape) : null, y.requiresGrad ? sumToShape(gy, y.shape) : null];
  });
}

/** 1 where a = b else 0 (no gradient). */
export function eq(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('eq', a, b);
  return binaryRaw('eq', x, y);
}

/** 1 where a > b else 0 (no gradient). */
export function gt(a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y] = operands('gt', a, b);
  return binaryRaw('gt', x, y);
}

/** @internal Runs a unary kernel (no autograd). */
export function unaryRaw(name: UnaryName, t: Tensor): Tensor {
  return wrap(kernelFor(name, name, [t])(t.view(name)), t.shape);
}

function unary(name: UnaryName, t: Tensor, backward: (g: Tensor, x: Tensor, y: Tensor) => Tensor): Tensor {
  expectDtype(t, ['f32', 'bf16', 'f16'], name, 'x');
  const x = toFloat(t);
  const y = unaryRaw(name, x);
  return record(y, name, [x], (g) => [backward(g, x, y)]);
}

/** −x */
export function neg(t: Tensor): Tensor {
  return unary('neg', t, (g) => unaryRaw('neg', g));
}
/** eˣ */
export function exp(t: Tensor): Tensor {
  return unary('exp', t, (g, _x, y) => binaryRaw('mul', g, y));
}
/** Natural log. */
export function log(t: Tensor): Tensor {
  return unary('log', t, (g, x) => binaryRaw('div', g, x));
}
/** √x */
export function sqrt(t: Tensor): Tensor {
  return unary('sqrt', t, (g, _x, y) => binaryRaw('div', g, binaryRaw('mul', y, scalarLike(2, y))));
}
/** tanh x */
export function tanh(t: Tensor): Tensor {
  return unary('tanh', t, (g, _x, y) => binaryRaw('mul', g, binaryRaw('sub', scalarLike(1, y), binaryRaw('mul', y, y))));
}
/** |x| (gradient sign(x), 0 at 0). */
export function abs(t: Tensor): Tensor {
  return unary('abs', t, (g, x) => {
    const zero = scalarLike(0, x);
    return binaryRaw('mul', g, binaryRaw('sub', binaryRaw('gt', x, zero), binaryRaw('gt', zero, x)));
  });
}
/** x² */
export function square(t: Tensor): Tensor {
  expectDtype(t, ['f32', 'bf16', 'f16'], 'square', 'x');
  const x = toFloat(t);
  return record(binaryRaw('mul', x, x), 'square', [x], (g) => [binaryRaw('mul', g, binaryRaw('mul', x, scalarLike(2, x)))]);
}
/** Logistic sigmoid. */
export function sigmoid(t: Tensor): Tensor {
  return unary('sigmoid', t, (g, _x, y) => binaryRaw('mul', g, binaryRaw('mul', y, binaryRaw('sub', scalarLike(1, y), y))));
}
/** max(x, 0). */
export function relu(t: Tensor): Tensor {
  return unary('relu', t, (g, x) => wrap(kernelFor('relu_grad', 'relu', [x, g])(x.view(), g.view()), x.shape));
}

/** Options of `gelu`. */
export interface GeluOptions {
  /** 'tanh' (GPT-2's approximation, the default) or 'none' (exact, with erf). */
  approximate?: 'tanh' | 'none';
}

/** GELU: tanh approximation (default) or exact erf form. */
export function gelu(t: Tensor, options: GeluOptions = {}): Tensor {
  const exact = options.approximate === 'none';
  const grad = exact ? 'gelu_erf_grad' : 'gelu_grad';
  return unary(exact ? 'gelu_erf' : 'gelu', t, (g, x) => wrap(kernelFor(grad, 'gelu', [x, g])(x.view(), g.view()), x.shape));
}

/** SiLU (swish): x·sigmoid(x). */
export function silu(t: Tensor): Tensor {
  return unary('silu', t, (g, x) => wrap(kernelFor('silu_grad', 'silu', [x, g])(x.view(), g.view()), x.shape));
}
