// The HTML run report: a self-contained page with a bar chart (inline SVG) of what each step removed.
import type { PipelineStats } from './stats.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Renders merged stats as one HTML page with no external assets. */
export function renderReport(stats: PipelineStats, title = 'lmkit data report'): string {
  const read = stats.steps[0]?.in ?? 0;
  const max = Math.max(1, ...stats.steps.map((s) => s.dropped));
  const rowH = 28;
  const labelW = 180;
  const barW = 460;
  const bars = stats.steps
    .map((step, i) => {
      const y = i * rowH;
      const w = Math.round((step.dropped / max) * barW);
      const pct = step.in > 0 ? ((100 * step.dropped) / step.in).toFixed(1) : '0.0';
      return (
        `<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${escape(step.name)}</text>` +
        `<rect x="${labelW}" y="${y + 5}" width="${w}" height="${rowH - 10}" fill="#c0392b"><title>${step.dropped} dropped (${pct}% of its input)</title></rect>` +
        `<text x="${labelW + w + 6}" y="${y + 18}">${step.dropped.toLocaleString('en-US')} (${pct}%)</text>`
      );
    })
    .join('\n');
  const rows = stats.steps
    .map((step) => {
      const reasons = Object.entries(step.reasons)
        .sort((a, b) => b[1] - a[1])
        .map(([r, n]) => `${escape(r)}: ${n}`)
        .join(', ');
      return `<tr><td>${escape(step.name)}</td><td>${step.in}</td><td>${step.kept}</td><td>${step.dropped}</td><td>${step.seconds.toFixed(2)}</td><td>${reasons}</td></tr>`;
    })
    .join('\n');
  const height = Math.max(rowH, stats.steps.length * rowH);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:last-child,th:first-child{text-align:left}svg text{font:13px system-ui,sans-serif}</style>
</head><body>
<h1>${escape(title)}</h1>
<p>${read.toLocaleString('en-US')} records read from ${(stats.inputBytes / 1e6).toFixed(1)} MB by ${stats.ranks} rank(s); ${stats.outputDocuments.toLocaleString('en-US')} documents kept (${read > 0 ? ((100 * stats.outputDocuments) / read).toFixed(1) : '0.0'}%) in ${stats.seconds.toFixed(1)} s.</p>
<h2>Documents removed per step</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 140}" height="${height}" role="img" aria-label="documents removed per step">
${bars}
</svg>
<h2>Details</h2>
<table><tr><th>step</th><th>in</th><th>kept</th><th>dropped</th><th>seconds</th><th>reasons</th></tr>
${rows}
</table>
</body></html>
`;
}
