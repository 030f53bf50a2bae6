// ensureDisplay: gives headless GL an X display in Node by starting Xvfb when DISPLAY is unset.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** An X display for headless GL, and how to let go of it. */
export interface DisplayHandle {
  /** The DISPLAY value in use (e.g. `:99`), or null when none could be found or started. */
  display: string | null;
  /** True when this call started an Xvfb process. */
  started: boolean;
  /** Why there is no display, when `display` is null. */
  reason?: string;
  /** Stops the Xvfb this call started (no-op otherwise). */
  stop(): void;
}

/** Options of `ensureDisplay`. */
export interface EnsureDisplayOptions {
  /** Milliseconds to wait for Xvfb to report its display (default 10000). */
  timeoutMs?: number;
}

/**
 * Makes sure `process.env.DISPLAY` names a live X display before gpu.js first creates a GL
 * context (gpu.js checks once per process; without X it silently picks a CPU kernel). Uses an
 * existing DISPLAY, else starts `Xvfb -displayfd` and sets DISPLAY for this process.
 *
 * @example
 * const d = await ensureDisplay(); registerGpuBackend(); ... d.stop();
 */
export async function ensureDisplay(options: EnsureDisplayOptions = {}): Promise<DisplayHandle> {
  const noop = (): void => {};
  if (process.env.DISPLAY) return { display: process.env.DISPLAY, started: false, stop: noop };
  if (process.platform !== 'linux') return { display: null, started: false, reason: `no DISPLAY and Xvfb is only started on Linux (platform ${process.platform})`, stop: noop };
  if (spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status !== 0) {
    return { display: null, started: false, reason: 'no DISPLAY is set and Xvfb is not installed (apt-get install xvfb xauth libgl1-mesa-dri)', stop: noop };
  }
  const xvfbArgs = ['-displayfd', '3', '-screen', '0', '64x64x24', '-nolisten', 'tcp'];
  // NOTE: a test runner kills its workers with a signal, which skips process 'exit' handlers; with
  // setpriv's parent-death signal the kernel stops Xvfb whenever this process goes, however it goes.
  const hasSetpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { stdio: 'ignore' }).status === 0;
  const child: ChildProcess = hasSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'Xvfb', ...xvfbArgs], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
    : spawn('Xvfb', xvfbArgs, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let err = '';
  const display = await new Promise<string | null>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(null), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdio[3]?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  const stop = (): void => {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
  };
  if (display === null) {
    stop();
    return { display: null, started: false, reason: `Xvfb did not report a display within ${timeoutMs} ms${err ? `: ${err.trim().slice(0, 300)}` : ''}`, stop: noop };
  }
  process.env.DISPLAY = display;
  // NOTE: the Xvfb child must not keep Node alive, and must die with it.
  child.unref();
  for (const s of [child.stderr, child.stdio[3]]) (s as { unref?: () => void } | null)?.unref?.();
  process.once('exit', stop);
  return { display, started: true, stop };
}
