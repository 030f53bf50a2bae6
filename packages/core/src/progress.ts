// Progress for long work: a bar with rate and ETA on a TTY, throttled JSON lines with --json, silence otherwise.
import { SingleBar, Presets } from 'cli-progress';

/** How progress is shown. */
export type ProgressMode = 'auto' | 'bar' | 'json' | 'silent';

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** What is being done, e.g. "train" or "clean corpus.jsonl". */
  label: string;
  /** Total units of work, if known (enables ETA). */
  total?: number;
  /** Unit name shown after the rate, e.g. "docs", "tok", "MB". Default "it". */
  unit?: string;
  /** 'auto' (default): bar when `stream` is a TTY, silent otherwise. */
  mode?: ProgressMode;
  /** Where to write. Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between JSON lines. Default 1000. */
  intervalMs?: number;
}

/** A running progress report. */
export interface Progress {
  /** Adds `n` (default 1) units of completed work; `fields` are extra values to show (loss, lr...). */
  tick(n?: number, fields?: Record<string, number | string>): void;
  /** Sets the absolute amount of completed work. */
  update(done: number, fields?: Record<string, number | string>): void;
  /** Ends the report (prints the final line / JSON event). */
  stop(): void;
  /** Units done so far. */
  readonly done: number;
}

/** Formats seconds as `1h02m03s` / `2m05s` / `7s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Starts a progress report; see {@link ProgressOptions} for how it is shown. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? 'it';
  const mode: ProgressMode = options.mode === undefined || options.mode === 'auto' ? (stream.isTTY ? 'bar' : 'silent') : options.mode;
  const intervalMs = options.intervalMs ?? 1000;
  const start = Date.now();
  let done = 0;
  let extra: Record<string, number | string> = {};
  let lastEmit = 0;

  const rate = (): number => done / Math.max(1e-9, (Date.now() - start) / 1000);
  const eta = (): number | undefined => (options.total ? (options.total - done) / Math.max(rate(), 1e-12) : undefined);

  let bar: SingleBar | undefined;
  if (mode === 'bar') {
    bar = new SingleBar(
      {
        format: (opts, params, payload: { rateText: string; etaText: string; extraText: string }) => {
          const total = params.total;
          const ratio = total > 0 ? Math.min(1, params.value / total) : 0;
          const width = opts.barsize ?? 30;
          const filled = Math.round(ratio * width);
          const barText = total > 0 ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}%` : '';
          const count = total > 0 ? `${params.value}/${total}` : `${params.value}`;
          return `${options.label} ${barText} ${count} ${unit} | ${payload.rateText} | ETA ${payload.etaText}${payload.extraText}`;
        },
        stream,
        hideCursor: true,
        barsize: 30,
        fps: 5,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    bar.start(options.total ?? 0, 0, { rateText: '', etaText: '?', extraText: '' });
  }

  const payload = () => ({
    rateText: `${rate().toFixed(rate() < 10 ? 2 : 0)} ${unit}/s`,
    etaText: options.total ? formatDuration(eta() ?? NaN) : '?',
    extraText: Object.keys(extra).length ? ' | ' + Object.entries(extra).map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toPrecision(5) : v}`).join(' ') : '',
  });

  const emitJson = (event: 'progress' | 'done'): void => {
    const line = {
      event,
      label: options.label,
      done,
      ...(options.total === undefined ? {} : { total: options.total }),
      unit,
      rate: +rate().toPrecision(6),
      elapsed_s: +((Date.now() - start) / 1000).toFixed(3),
      ...(eta() === undefined ? {} : { eta_s: +(eta() as number).toFixed(1) }),
      ...extra,
    };
    stream.write(JSON.stringify(line) + '\n');
  };

  const refresh = (): void => {
    if (bar) bar.update(done, payload());
    else if (mode === 'json') {
      const now = Date.now();
      if (now - lastEmit >= intervalMs) {
        lastEmit = now;
        emitJson('progress');
      }
    }
  };

  return {
    get done() {
      return done;
    },
    tick(n = 1, fields) {
      done += n;
      if (fields) extra = { ...extra, ...fields };
      refresh();
    },
    update(value, fields) {
      done = value;
      if (fields) extra = { ...extra, ...fields };
      refresh();
    },
    stop() {
      if (bar) {
        bar.update(done, payload());
        bar.stop();
      } else if (mode === 'json') emitJson('done');
    },
  };
}
