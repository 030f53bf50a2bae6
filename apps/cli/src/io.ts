// Shared CLI plumbing: reading inputs, printing results (text or --json), and turning errors into exit codes.
import { readFile } from 'node:fs/promises';
import { Command, CommanderError } from 'commander';
import { LmkitError, isLmkitError } from '@lmkit/core';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** A CLI error for bad arguments or input (exit code 2). */
export class UsageError extends LmkitError {
  constructor(message: string, hint?: string) {
    super('CLI_USAGE', message, hint === undefined ? {} : { hint });
  }
}

/** Global options every command sees through `command.optsWithGlobals()`. */
export interface GlobalOptions {
  /** Machine-readable output: results as JSON, progress as JSON lines on stderr. */
  json?: boolean;
}

/** Reads a file as bytes, or all of stdin when `path` is undefined or '-'. */
export async function readInputBytes(path: string | undefined): Promise<Uint8Array> {
  if (path === undefined || path === '-') {
    if (process.stdin.isTTY) throw new UsageError('no input: give a FILE or pipe text to stdin');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LmkitError('CLI_INPUT_NOT_FOUND', `${path}: cannot read (${code ?? String(error)})`, {
      hint: code === 'ENOENT' ? 'check the path' : 'check the file permissions',
      details: { path },
      cause: error,
    });
  }
}

/** Prints a result: `json` mode prints JSON; otherwise `text` (or the JSON if no text form). */
export function printResult(options: GlobalOptions, value: unknown, text?: string): void {
  if (options.json || text === undefined) process.stdout.write(JSON.stringify(value) + '\n');
  else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Prints an error the way scripts and people both can read, and returns the exit code to use. */
export function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const usage = error instanceof UsageError;
  if (json) {
    const body = isLmkitError(error) ? (error as LmkitError).toJSON?.() ?? { code: (error as LmkitError).code, message: (error as Error).message } : { code: 'INTERNAL', message: String((error as Error)?.stack ?? error) };
    process.stderr.write(JSON.stringify({ event: 'error', ...body }) + '\n');
  } else if (isLmkitError(error)) {
    const e = error as LmkitError;
    process.stderr.write(`lmkit: error [${e.code}]: ${e.message}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  } else {
    process.stderr.write(`lmkit: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.stderr.write('hint: this is a bug in lmkit; please report it with the command you ran\n');
  }
  return usage ? EXIT.usage : EXIT.failure;
}

/** Wraps a command action so that its errors become a message and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    const json = Boolean((command.optsWithGlobals?.() as GlobalOptions | undefined)?.json);
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error, json);
    }
  };
}

/** Parses a positive integer option, naming the flag when it is not one. */
export function parsePositiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
    return n;
  };
}

/** Parses a finite number option, naming the flag when it is not one. */
export function parseNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
    return n;
  };
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Ctrl-C for long jobs: the first SIGINT prints `message` and aborts the returned signal (the job
 * stops after its current step and checkpoints); a second one exits at once with code 130.
 * Call `dispose()` when the job ends.
 */
export function stopOnSigint(message: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\nlmkit: ${message} (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
