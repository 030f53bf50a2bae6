import { describe, expect, it } from 'vitest';
import { AdamW } from '../optim/adamw.js';
import { LossScaler } from './loss-scaler.js';

describe('LossScaler (GradScaler semantics)', () => {
  it('on overflow: the step is skipped, params are unchanged and S halves', () => {
    const p = { name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]), grad: new Float32Array([1, Infinity, 0, 0]) };
    const opt = new AdamW([p], { lr: 0.1 });
    const scaler = new LossScaler();
    expect(scaler.scale).toBe(65536);
    const before = p.data.slice();
    const overflow = scaler.unscale([p.grad]);
    if (!overflow) opt.step();
    scaler.update(overflow);
    expect(overflow).toBe(true);
    expect(Array.from(p.data)).toEqual(Array.from(before));
    expect(opt.stepCount).toBe(0);
    expect(scaler.scale).toBe(32768);
    p.grad.set([NaN, 0, 0, 0]);
    expect(scaler.unscale([p.grad])).toBe(true);
  });
  it('unscales clean gradients and doubles S after growthInterval clean steps', () => {
    const scaler = new LossScaler({ initScale: 8, growthInterval: 3 });
    const g = new Float32Array([8, -16]);
    expect(scaler.unscale([g])).toBe(false);
    expect(Array.from(g)).toEqual([1, -2]);
    scaler.update(false);
    scaler.update(false);
    expect(scaler.scale).toBe(8);
    scaler.update(false);
    expect(scaler.scale).toBe(16);
    scaler.update(false);
    scaler.update(true); // overflow resets the streak
    expect(scaler.scale).toBe(8);
    expect(scaler.state()).toEqual({ scale: 8, growthTracker: 0 });
    const restored = new LossScaler();
    restored.loadState({ scale: 4, growthTracker: 2 });
    restored.update(false);
    restored.update(false);
    expect(restored.scale).toBe(4); // default interval 2000
  });
});
