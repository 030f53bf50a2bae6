import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entryToFloat32, readSafetensors } from '@lmkit/model';
import { createSchedule } from '../schedule/lr-schedule.js';
import { AdamW, type OptimParam } from './adamw.js';
import { clipGradNorm, globalGradNorm } from './clip-grad-norm.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/adamw.safetensors', import.meta.url));

describe('AdamW against torch.optim.AdamW + clip_grad_norm_ (fixture from scripts/make_fixtures.py)', () => {
  it('matches parameters after every one of 6 steps, grad norms and the llm.c cosine LR', async () => {
    const file = await readSafetensors(fixture);
    const get = (name: string): Float32Array => entryToFloat32(file.tensors.get(name)!, name);
    const names = ['emb.weight', 'fc.weight', 'fc.bias', 'norm.weight'];
    const params: OptimParam[] = names.map((name) => {
      const init = file.tensors.get(`init.${name}`)!;
      return { name, shape: init.shape, data: get(`init.${name}`), grad: new Float32Array(get(`init.${name}`).length) };
    });
    const meta = file.metadata;
    const opt = new AdamW(params, { betas: [Number(meta.beta1), Number(meta.beta2)], eps: Number(meta.eps), weightDecay: Number(meta.weight_decay) });
    const schedule = createSchedule({ kind: 'cosine', maxLr: Number(meta.max_lr), warmupSteps: Number(meta.warmup), totalSteps: Number(meta.total), finalLrFrac: Number(meta.final_frac) });
    const lrs = get('lr');
    const norms = get('grad_norm');
    expect(opt.decays('fc.weight')).toBe(true);
    expect(opt.decays('fc.bias')).toBe(false);
    for (let k = 0; k < Number(meta.steps); k++) {
      for (const p of params) p.grad.set(get(`grad.${k}.${p.name}`));
      const norm = clipGradNorm(params.map((p) => p.grad), Number(meta.clip));
      expect(norm).toBeCloseTo(norms[k], 4);
      const lr = schedule.at(k);
      expect(Math.abs(lr - lrs[k]) / lrs[k]).toBeLessThan(1e-6);
      opt.step(lr);
      for (const p of params) {
        const want = get(`param.${k}.${p.name}`);
        let maxDiff = 0;
        for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p.data[i] - want[i]));
        // NOTE: torch runs in float32; ours keeps intermediates in float64. Tolerance: 1e-6 absolute (lr ≤ 1e-2).
        expect(maxDiff, `${p.name} after step ${k}`).toBeLessThan(1e-6);
      }
    }
    expect(opt.stepCount).toBe(6);
  });
});

describe('AdamW against a float64 hand implementation of the documented formula', () => {
  it('two steps on one matrix and one vector', () => {
    const w = { name: 'w', shape: [2, 2], data: new Float32Array([0.5, -1, 2, 0.25]), grad: new Float32Array([0.1, -0.2, 0.3, 0]) };
    const b = { name: 'b', shape: [2], data: new Float32Array([1, -1]), grad: new Float32Array([0.5, 0.5]) };
    const opt = new AdamW([w, b], { lr: 0.1, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 });
    const ref = (p0: number[], grads: number[][], decay: boolean): number[] => {
      const p = [...p0];
      const m = p.map(() => 0);
      const v = p.map(() => 0);
      grads.forEach((g, t) => {
        for (let i = 0; i < p.length; i++) {
          if (decay) p[i] *= 1 - 0.1 * 0.1;
          m[i] = 0.9 * m[i] + 0.1 * g[i];
          v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
          const mh = m[i] / (1 - 0.9 ** (t + 1));
          const vh = v[i] / (1 - 0.95 ** (t + 1));
          p[i] -= (0.1 * mh) / (Math.sqrt(vh) + 1e-8);
        }
      });
      return p;
    };
    const wg2 = [0.05, 0.1, -0.3, 0.2];
    const bg2 = [-0.5, 0.25];
    const w0 = Array.from(w.data);
    const b0 = Array.from(b.data);
    opt.step();
    w.grad.set(wg2);
    b.grad.set(bg2);
    opt.step();
    const wr = ref(w0, [[0.1, -0.2, 0.3, 0], wg2], true);
    const br = ref(b0, [[0.5, 0.5], bg2], false);
    wr.forEach((x, i) => expect(w.data[i]).toBeCloseTo(x, 6));
    br.forEach((x, i) => expect(b.data[i]).toBeCloseTo(x, 6));
  });
  it('round-trips its state and rejects a mismatched one', () => {
    const p = { name: 'w', shape: [3, 1], data: new Float32Array([1, 2, 3]), grad: new Float32Array([0.1, 0.2, 0.3]) };
    const opt = new AdamW([p]);
    opt.step();
    const state = opt.stateDict();
    const q = { ...p, data: p.data.slice() };
    const opt2 = new AdamW([q]);
    opt2.loadStateDict(state);
    opt.step();
    opt2.step();
    expect(Array.from(q.data)).toEqual(Array.from(p.data));
    const other = new AdamW([{ name: 'x', shape: [3], data: new Float32Array(3), grad: new Float32Array(3) }]);
    expect(() => other.loadStateDict(state)).toThrow(/no moments for parameter "x"/);
  });
});

describe('clipGradNorm', () => {
  it('scales to maxNorm only when above it and returns the pre-clip norm', () => {
    const a = new Float32Array([3, 0]);
    const b = new Float32Array([4]);
    expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 12);
    expect(globalGradNorm([a, b])).toBeCloseTo(1, 6);
    expect(a[0]).toBeCloseTo(0.6, 6);
    const c = new Float32Array([0.3, 0.4]);
    expect(clipGradNorm([c], 1)).toBeCloseTo(0.5, 6);
    expect(Array.from(c)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });
});
