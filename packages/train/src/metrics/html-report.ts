// The training report: one self-contained HTML page with loss, learning-rate and throughput curves (inline SVG).
import { escapeHtml, svgLineChart } from './svg-chart.js';
import type { MetricsRecord } from './metrics-log.js';

/** What {@link renderReport} shows. */
export interface ReportInput {
  /** Page title. Default 'lmkit training report'. */
  title?: string;
  /** The run's metrics records. */
  metrics: readonly MetricsRecord[];
  /** Key facts shown as a table (model, params, objective, data, final losses...). */
  summary?: Record<string, string | number>;
  /** Text samples from the model, shown verbatim. */
  samples?: readonly string[];
}

function ema(points: ReadonlyArray<readonly [number, number]>, alpha: number): Array<[number, number]> {
  let s: number | undefined;
  return points.map(([x, y]) => {
    s = s === undefined ? y : alpha * y + (1 - alpha) * s;
    return [x, s];
  });
}

/**
 * Renders the report as one HTML string: summary table, loss curve (raw, smoothed and
 * validation), learning rate, gradient norm and tokens/s. No scripts or external assets.
 *
 * @example
 * await atomicWriteFile('out/report.html', renderReport({ metrics: log.all, summary: { model: 'tiny' } }));
 */
export function renderReport(input: ReportInput): string {
  const title = input.title ?? 'lmkit training report';
  const m = input.metrics;
  const series = (key: keyof MetricsRecord): Array<[number, number]> =>
    m.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]);
  const train = series('loss');
  const charts = [
    svgLineChart(
      [
        { label: 'train loss', color: '#1f77b4', points: train, opacity: 0.35 },
        { label: 'train (smoothed)', color: '#1f77b4', points: ema(train, 0.1) },
        { label: 'validation loss', color: '#d62728', points: series('val_loss'), dots: true },
      ],
      { title: 'loss (nats / token)' },
    ),
    svgLineChart([{ label: 'learning rate', color: '#2ca02c', points: series('lr') }], { title: 'learning rate' }),
    svgLineChart([{ label: 'grad norm', color: '#9467bd', points: series('grad_norm') }], { title: 'gradient norm (before clipping)', logY: true }),
    svgLineChart([{ label: 'tokens/s', color: '#ff7f0e', points: series('tokens_per_s') }], { title: 'throughput (tokens / s)' }),
  ];
  const skipped = m.filter((r) => r.skipped).map((r) => r.step);
  const rows = Object.entries(input.summary ?? {})
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'number' ? String(+v.toPrecision(6)) : v)}</td></tr>`)
    .join('');
  const samples = (input.samples ?? []).map((s) => `<pre>${escapeHtml(s)}</pre>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}table{border-collapse:collapse}th,td{text-align:left;padding:2px 12px 2px 0;font-size:14px}th{font-weight:600}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}svg{display:block;margin:1em 0}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<table>${rows}</table>
${skipped.length ? `<p>Skipped steps (fp16 overflow): ${skipped.length} (${escapeHtml(skipped.slice(0, 20).join(', '))}${skipped.length > 20 ? ', …' : ''})</p>` : ''}
${charts.join('\n')}
${samples ? `<h2>Samples</h2>${samples}` : ''}
</body></html>
`;
}
