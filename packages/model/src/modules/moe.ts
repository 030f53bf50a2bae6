// Mixture of experts: a top-k softmax router over expert MLPs with the Switch/GShard load-balancing loss.
import { concat, embedding, mean, mul, reshape, softmax, sum, div, tensor, type Tensor } from '@lmkit/tensor';
import { Module, ModuleList } from '../module.js';
import { Linear } from './linear.js';
import { MLP, type MLPKind } from './mlp.js';

/** Options of {@link MoE}. */
export interface MoEOptions {
  /** Model width C. */
  dModel: number;
  /** Hidden width of each expert. */
  dFf: number;
  /** Number of experts E. */
  numExperts: number;
  /** Experts per token k. Default 2. */
  topK?: number;
  /** Expert activation. Default 'swiglu'. */
  kind?: MLPKind;
  /** Biases in expert projections. Default false. */
  bias?: boolean;
  /** Renormalize the k gate probabilities to sum to 1 (Mixtral). Default: true when k > 1 (Switch k = 1 keeps p). */
  normalizeTopK?: boolean;
}

/** What the last forward routed: for tests, metrics and the trainer's aux loss. */
export interface MoERouting {
  /** Tokens sent to each expert (counting each of a token's k choices). */
  counts: Int32Array;
  /** Expert ids chosen per token, (N·k) token-major. */
  experts: Int32Array;
  /**
   * Load-balancing loss E · Σₑ fₑ · Pₑ (Switch Transformer eq. 4, Mixtral's top-k form), with fₑ the
   * fraction of token choices routed to e and Pₑ the mean router probability of e. 1 when balanced.
   */
  auxLoss: Tensor;
}

/**
 * Sparse MoE feed-forward: (…, C) → (…, C). Each token goes to its k most probable experts
 * (ties to the lower index); outputs are summed weighted by the (renormalized) router
 * probabilities. Tokens are gathered per expert and scattered back with gathers whose backward
 * is a scatter-add, so no one-hot matrices are built.
 */
export class MoE extends Module {
  /** Experts E. */
  readonly numExperts: number;
  /** Experts per token. */
  readonly topK: number;
  /** Whether gate weights are renormalized over the k choices. */
  readonly normalizeTopK: boolean;
  /** Router (E, C), no bias. */
  readonly router: Linear;
  /** The experts. */
  readonly experts: ModuleList<MLP>;
  /** Routing of the latest forward, or null before the first. */
  lastRouting: MoERouting | null = null;

  constructor(options: MoEOptions) {
    super();
    this.numExperts = options.numExperts;
    this.topK = options.topK ?? 2;
    this.normalizeTopK = options.normalizeTopK ?? this.topK > 1;
    this.router = this.registerModule('router', new Linear(options.dModel, options.numExperts, { bias: false }));
    const make = (): MLP => new MLP({ dModel: options.dModel, dFf: options.dFf, kind: options.kind ?? 'swiglu', bias: options.bias ?? false });
    this.experts = this.registerModule('experts', new ModuleList(Array.from({ length: options.numExperts }, make)));
  }

  /** (…, C) → (…, C); sets {@link MoE.lastRouting}. */
  forward(x: Tensor): Tensor {
    const C = x.shape[x.shape.length - 1]!;
    const N = x.size / C;
    const E = this.numExperts;
    const k = this.topK;
    const x2 = reshape(x, [N, C]);
    const probs = softmax(this.router.forward(x2), -1); // (N, E)
    const p = probs.data() as Float32Array;

    const chosen = new Int32Array(N * k);
    const counts = new Int32Array(E);
    const order = Array.from({ length: E }, (_, e) => e);
    for (let n = 0; n < N; n++) {
      order.sort((a, b) => p[n * E + b]! - p[n * E + a]! || a - b);
      for (let j = 0; j < k; j++) {
        chosen[n * k + j] = order[j]!;
        counts[order[j]!]! += 1;
      }
    }
    const fraction = tensor(Float32Array.from(counts, (c) => c / N), [E]);
    const auxLoss = mul(sum(mul(mean(probs, 0), fraction)), E);

    // Gate weight of each (token, slot): gathered from the flat probabilities so grads reach the router.
    const slotIds = Int32Array.from(chosen, (e, i) => Math.floor(i / k) * E + e);
    let gates = embedding(reshape(probs, [N * E, 1]), ids(slotIds)); // (N·k, 1)
    if (this.normalizeTopK) {
      const g = reshape(gates, [N, k]);
      gates = reshape(div(g, sum(g, 1, true)), [N * k, 1]);
    }

    // Per expert: gather its tokens, run it, weight by the gate; remember where each slot landed.
    const outputs: Tensor[] = [];
    const placeOfSlot = new Int32Array(N * k);
    let placed = 0;
    for (let e = 0; e < E; e++) {
      if (counts[e] === 0) continue;
      const slots = new Int32Array(counts[e]!);
      let m = 0;
      for (let i = 0; i < N * k; i++) if (chosen[i] === e) slots[m++] = i;
      const tokens = Int32Array.from(slots, (s) => Math.floor(s / k));
      const y = this.experts.items[e]!.forward(embedding(x2, ids(tokens))); // (nₑ, C)
      outputs.push(mul(y, embedding(gates, ids(slots))));
      for (const s of slots) placeOfSlot[s] = placed++;
    }
    const all = outputs.length === 1 ? outputs[0]! : concat(outputs, 0); // (N·k, C), expert-major
    const bySlot = embedding(all, ids(placeOfSlot)); // (N·k, C), token-major
    const out = sum(reshape(bySlot, [N, k, C]), 1); // (N, C)
    this.lastRouting = { counts, experts: chosen, auxLoss };
    return reshape(out, [...x.shape]);
  }
}

function ids(values: Int32Array): Tensor {
  return tensor(values, [values.length], { dtype: 'i32' });
}
