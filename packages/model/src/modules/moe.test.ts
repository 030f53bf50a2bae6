// Tests of the MoE layer: routing and load-balancing loss on hand cases, top-k renormalization, and gradients.
import { describe, expect, it } from 'vitest';
import { add, createRng, randn, sum, tensor } from '@lmkit/tensor';
import { expectClose } from '../../test/helpers.js';
import { MoE } from './moe.js';

const softmax = (row: number[]): number[] => {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function withIdentityRouter(moe: MoE, C: number, E: number): void {
  const w = new Float32Array(E * C);
  for (let e = 0; e < Math.min(E, C); e++) w[e * C + e] = 1; // logits = first E features
  moe.router.loadStateDict(new Map([['weight', { data: w, shape: [E, C] }]]));
  const rng = createRng(9);
  moe.experts.loadStateDict(new Map(moe.experts.namedParameters().map(([n, p]) => [n, randn([...p.shape], { rng, std: 0.5 })])));
}

describe('MoE', () => {
  const tokens = [[2, 0, 0.5], [0, 1, -1], [3, 0, 0], [1, 0, 2]];

  it('top-1 (Switch): routes to the argmax, weights by p, and gives the load-balancing loss by hand', () => {
    const moe = new MoE({ dModel: 3, dFf: 4, numExperts: 2, topK: 1 });
    withIdentityRouter(moe, 3, 2);
    const out = moe.forward(tensor(tokens)).data() as Float32Array;
    const routing = moe.lastRouting!;
    expect(Array.from(routing.experts)).toEqual([0, 1, 0, 0]);
    expect(Array.from(routing.counts)).toEqual([3, 1]);
    const probs = tokens.map((t) => softmax(t.slice(0, 2)));
    const meanP = [0, 1].map((e) => probs.reduce((s, p) => s + p[e]!, 0) / 4);
    const expectedAux = 2 * (0.75 * meanP[0]! + 0.25 * meanP[1]!); // E · Σ fₑ·Pₑ
    expect(routing.auxLoss.item()).toBeCloseTo(expectedAux, 6);
    const expected: number[] = [];
    tokens.forEach((t, n) => {
      const e = routing.experts[n]!;
      const y = moe.experts.items[e]!.forward(tensor([t])).data();
      for (const v of y) expected.push(v * probs[n]![e]!);
    });
    expectClose(out, expected, 1e-6, 1e-5, 'output');
  });

  it('top-2 (Mixtral): renormalizes the two gate probabilities', () => {
    const moe = new MoE({ dModel: 3, dFf: 4, numExperts: 3, topK: 2, kind: 'gelu_tanh' });
    withIdentityRouter(moe, 3, 3);
    const out = moe.forward(tensor(tokens)).data() as Float32Array;
    const routing = moe.lastRouting!;
    const expected: number[] = [];
    tokens.forEach((t, n) => {
      const p = softmax(t);
      const order = [0, 1, 2].sort((a, b) => p[b]! - p[a]! || a - b).slice(0, 2);
      expect([routing.experts[2 * n], routing.experts[2 * n + 1]]).toEqual(order);
      const z = p[order[0]!]! + p[order[1]!]!;
      const acc = [0, 0, 0];
      for (const e of order) moe.experts.items[e]!.forward(tensor([t])).data().forEach((v, i) => (acc[i]! += (v * p[e]!) / z));
      expected.push(...acc);
    });
    expectClose(out, expected, 1e-6, 1e-5, 'output');
    expect(routing.auxLoss.item()).toBeGreaterThan(0);
  });

  it('back-propagates into the router, experts and input (finite differences)', () => {
    const moe = new MoE({ dModel: 3, dFf: 4, numExperts: 3, topK: 2 });
    withIdentityRouter(moe, 3, 3);
    const lossOf = (): number => {
      const y = moe.forward(tensor(tokens));
      return add(sum(y), moe.lastRouting!.auxLoss).item();
    };
    const y = moe.forward(tensor(tokens));
    add(sum(y), moe.lastRouting!.auxLoss).backward();
    const w = moe.router.weight;
    const grad = w.grad!.data() as Float32Array;
    const base = w.data() as Float32Array;
    const eps = 1e-2;
    for (const i of [0, 4, 7]) {
      const plus = Float32Array.from(base);
      plus[i]! += eps;
      w.write(plus);
      const lp = lossOf();
      const minus = Float32Array.from(base);
      minus[i]! -= eps;
      w.write(minus);
      const lm = lossOf();
      w.write(base);
      expect(grad[i]).toBeCloseTo((lp - lm) / (2 * eps), 3);
    }
    expect(moe.experts.items[0]!.fc.weight.grad).not.toBeNull();
  });
});
