// The Module base class: a tree of named parameters and submodules, state dicts and train/eval mode.
import { Tensor } from '@lmkit/tensor';
import { ModelError } from './errors.js';

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Throw on missing or unexpected keys (shape mismatches always throw). Default true. */
  strict?: boolean;
  /** Where the state came from, for error messages. Default 'state dict'. */
  source?: string;
}

/**
 * Base of every layer and model. Subclasses register parameters and children in their
 * constructor; names compose with dots (`blocks.0.attn.qkv.weight`), in registration order,
 * as in PyTorch. Parameters are read through {@link Module.param} at forward time, so swapping
 * one (loading a checkpoint, an optimizer producing new tensors) takes effect everywhere.
 */
export class Module {
  /** Training mode enables dropout; set with {@link Module.train} / {@link Module.eval}. */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a parameter under a local name (no dots); returns it. */
  protected registerParameter(name: string, value: Tensor): Tensor {
    if (!value.requiresGrad) value.requiresGrad = true;
    this.ownParams.set(name, value);
    return value;
  }

  /** Registers a child module under a local name; returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** The current tensor of a local parameter. */
  protected param(name: string): Tensor {
    const p = this.ownParams.get(name);
    if (!p) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${this.constructor.name} has no parameter "${name}"`);
    return p;
  }

  /** The local parameter or null when it was not registered (optional biases). */
  protected optionalParam(name: string): Tensor | null {
    return this.ownParams.get(name) ?? null;
  }

  /** Child modules with their local names. */
  namedChildren(): Array<[string, Module]> {
    return [...this.children];
  }

  /** Every parameter with its dotted name, depth-first in registration order. */
  namedParameters(prefix = ''): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [name, p] of this.ownParams) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** Every parameter, in {@link Module.namedParameters} order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** The named parameters as a map (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /** Replaces the parameter at a dotted path with `value` (which becomes a leaf requiring grad). */
  setParameter(path: string, value: Tensor): void {
    const dot = path.indexOf('.');
    if (dot < 0) {
      const old = this.ownParams.get(path);
      if (!old) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `no parameter "${path}" in ${this.constructor.name}`, { details: { key: path } });
      this.registerParameter(path, value);
      return;
    }
    const child = this.children.get(path.slice(0, dot));
    if (!child) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `no submodule "${path.slice(0, dot)}" in ${this.constructor.name}`, { details: { key: path } });
    child.setParameter(path.slice(dot + 1), value);
  }

  /**
   * Loads parameters by name, writing the values into the existing tensors in place. With
   * `strict` (the default) missing and unexpected keys throw, naming every one; a shape
   * mismatch always throws naming the key and both shapes.
   */
  loadStateDict(state: Map<string, Tensor | { data: Float32Array; shape: readonly number[] }>, options: LoadStateDictOptions = {}): void {
    const { strict = true, source = 'state dict' } = options;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      const parts = [missing.length ? `missing keys: ${missing.join(', ')}` : '', unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : ''].filter(Boolean);
      throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: ${parts.join('; ')}`, {
        hint: 'the state dict was made for another architecture; check the config', details: { missing, unexpected, key: missing[0] ?? unexpected[0] },
      });
    }
    for (const [key, current] of own) {
      const value = state.get(key);
      if (!value) continue;
      const shape = [...value.shape];
      if (shape.length !== current.shape.length || shape.some((d, i) => d !== current.shape[i])) {
        throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: "${key}" has shape ${JSON.stringify(shape)}, the model expects ${JSON.stringify([...current.shape])}`, {
          hint: 'check the config (widths, heads, vocab size) against the checkpoint', details: { key, shape, expected: [...current.shape] },
        });
      }
    }
    for (const [key, current] of own) {
      const value = state.get(key);
      if (!value) continue;
      // NOTE: written in place so optimizers and tied modules holding these tensors see the new values.
      current.write(isTensor(value) ? value.data() : value.data);
    }
  }

  /** Sets training mode (dropout on) for this module and all children; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Sets evaluation mode (dropout off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }
}

/** An ordered list of modules named `0`, `1`, … (PyTorch's ModuleList). */
export class ModuleList<M extends Module> extends Module {
  /** The modules, in order. */
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }
}

function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}
