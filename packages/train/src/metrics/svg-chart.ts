// A self-contained SVG line chart (no external assets) for the training report.

/** One line on a chart. */
export interface ChartSeries {
  /** Legend label. */
  label: string;
  /** Points (x, y); non-finite y values are skipped. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Stroke color (CSS). */
  color: string;
  /** Draw dots instead of a line (for sparse series such as validation loss). Default false. */
  dots?: boolean;
  /** Stroke opacity. Default 1. */
  opacity?: number;
}

/** Options for {@link svgLineChart}. */
export interface ChartOptions {
  /** Chart title. */
  title: string;
  /** x-axis label. Default 'step'. */
  xLabel?: string;
  /** Width in px. Default 720. */
  width?: number;
  /** Height in px. Default 300. */
  height?: number;
  /** Log-scale y axis. Default false. */
  logY?: boolean;
}

/** Escapes text for HTML/SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step);
  // NOTE: count by integer index, so a step below the float spacing of t cannot loop forever.
  for (let k = 0; k <= count * 3 && (first + k) * step <= hi + step * 1e-9; k++) ticks.push(+((first + k) * step).toPrecision(12));
  return ticks;
}

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(1) : String(+x.toPrecision(4));
}

/**
 * Renders series as an inline `<svg>` with axes, ticks and a legend.
 *
 * @example
 * svgLineChart([{ label: 'train', color: '#1f77b4', points: [[1, 5.5], [2, 4.1]] }], { title: 'loss' });
 */
export function svgLineChart(series: readonly ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 300;
  const m = { left: 60, right: 20, top: 30, bottom: 40 };
  const ty = (y: number): number => (options.logY ? Math.log10(y) : y);
  const pts = series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0)));
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60" role="img"><text x="10" y="35" font-size="14">${escapeHtml(options.title)}: no data</text></svg>`;
  }
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => ty(p[1]))), Math.max(...pts.map((p) => ty(p[1])))];
  if (x1 - x0 <= 1e-9 * Math.max(Math.abs(x0), 1)) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 - y0 <= 1e-9 * Math.max(Math.abs(y0), Math.abs(y1), 1e-30)) [y0, y1] = y0 === 0 ? [-1, 1] : [y0 - Math.abs(y0) * 0.5, y1 + Math.abs(y1) * 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number): number => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const sy = (y: number): number => height - m.bottom - ((ty(y) - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="sans-serif" font-size="11">`);
  parts.push(`<title>${escapeHtml(options.title)}</title>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escapeHtml(options.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#eee"/><text x="${sx(t)}" y="${height - m.bottom + 14}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    const y = height - m.bottom - ((t - y0) / (y1 - y0)) * (height - m.top - m.bottom);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${fmt(options.logY ? 10 ** t : t)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${width / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.xLabel ?? 'step')}</text>`);
  series.forEach((s, i) => {
    const ok = s.points.filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0));
    const opacity = s.opacity ?? 1;
    if (s.dots) {
      for (const [x, y] of ok) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}" fill-opacity="${opacity}"/>`);
    } else if (ok.length > 0) {
      const d = ok.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5" stroke-opacity="${opacity}"/>`);
    }
    const lx = m.left + 10 + i * 150;
    parts.push(`<rect x="${lx}" y="${m.top + 6}" width="12" height="3" fill="${s.color}"/><text x="${lx + 16}" y="${m.top + 11}">${escapeHtml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
