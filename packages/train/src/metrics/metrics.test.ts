import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReport } from './html-report.js';
import { MetricsLog, readMetricsText } from './metrics-log.js';
import { estimateMfu } from './mfu.js';

describe('metrics log', () => {
  it('appends JSON lines and trims records after the resume step', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'lmkit-metrics-')), 'metrics.jsonl');
    const log = await MetricsLog.open(path);
    for (let s = 1; s <= 5; s++) await log.write({ step: s, loss: 5 - s * 0.1, lr: 1e-3 });
    await log.write({ step: 5, val_loss: 4.6 });
    expect(readMetricsText(await readFile(path, 'utf8'))).toHaveLength(6);
    const resumed = await MetricsLog.open(path, { resumeFromStep: 3 });
    expect(resumed.all.map((r) => r.step)).toEqual([1, 2, 3]);
    await resumed.write({ step: 4, loss: 1 });
    const lines = readMetricsText((await readFile(path, 'utf8')) + '{"step": 9, "lo');
    expect(lines.map((r) => r.step)).toEqual([1, 2, 3, 4]);
  });
});

describe('HTML report', () => {
  it('is one self-contained page with the loss curves and escaped text', () => {
    const metrics = Array.from({ length: 50 }, (_, i) => ({ step: i + 1, loss: 5 / (i + 1), lr: 1e-3, grad_norm: 1, tokens_per_s: 1000 }));
    const html = renderReport({ metrics: [...metrics, { step: 50, val_loss: 0.2 }, { step: 51, skipped: true }], summary: { model: '<tiny>' }, samples: ['a < b'] });
    expect(html).toContain('<svg');
    expect(html).toContain('validation loss');
    expect(html).toContain('&lt;tiny&gt;');
    expect(html).toContain('a &lt; b');
    expect(html).toContain('Skipped steps (fp16 overflow): 1');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect((html.match(/<path /g) ?? []).length).toBeGreaterThanOrEqual(4);
  });
});

describe('MFU', () => {
  it('is flops per token × tokens/s over peak', () => {
    expect(estimateMfu({ flopsPerToken: 6e6, tokensPerSecond: 2000, peakFlops: 1.2e11 })).toBeCloseTo(0.1, 12);
  });
});

describe('svg chart edge cases', () => {
  it('draws nearly-constant and single-point series without hanging', async () => {
    const { svgLineChart } = await import('./svg-chart.js');
    const svg = svgLineChart([{ label: 'lr', color: '#000', points: [[1, 0.01], [2, 0.010000000000000002]] }], { title: 'lr' });
    expect(svg).toContain('<path');
    expect(svgLineChart([{ label: 'x', color: '#000', points: [[5, 0]] }], { title: 'one' })).toContain('<svg');
  });
});
