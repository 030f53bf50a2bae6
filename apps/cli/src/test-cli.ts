// Test helper: runs one command group in-process with captured stdout/stderr and the exit code it sets.
import { Command } from 'commander';
import { vi } from 'vitest';
import { reportError } from './io.js';
import type { RegisterCommands } from './commands/index.js';

/** What a CLI run printed and the exit code it ended with. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as the exact bytes written (for binary-safe checks). */
  raw: Buffer;
}

/** Runs `lmkit <argv>` with only the given command groups registered (plus the global --json). */
export async function runCli(groups: RegisterCommands[], ...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const chunks: Buffer[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(Buffer.from(c)), (stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  const program = new Command('lmkit').option('--json').exitOverride();
  program.configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  for (const register of groups) register(program);
  try {
    await program.parseAsync(['node', 'lmkit', ...argv]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr, raw: Buffer.concat(chunks) };
  } catch (error) {
    return { code: reportError(error, argv.includes('--json')), stdout, stderr, raw: Buffer.concat(chunks) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}
