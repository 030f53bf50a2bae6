import { describe, expect, it, vi } from 'vitest';
import { LmkitError } from '@lmkit/core';
import { buildProgram, main } from './main.js';
import { EXIT, reportError, UsageError } from './io.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'lmkit', ...argv]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}

describe('lmkit program', () => {
  it('prints its version and exits 0', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
  });
  it('rejects an unknown command with the usage exit code', async () => {
    const r = await run(['no-such-command']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/unknown command|too many arguments/);
  });
  it('has the global --json option', () => {
    expect(buildProgram().options.map((o) => o.long)).toContain('--json');
  });
});

describe('reportError', () => {
  it('prints code and hint for LmkitError, JSON lines in --json mode, exit 2 for usage errors', () => {
    let stderr = '';
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    try {
      expect(reportError(new LmkitError('X_BAD', 'f.txt:2: broken', { hint: 'fix line 2' }), false)).toBe(EXIT.failure);
      expect(stderr).toContain('error [X_BAD]: f.txt:2: broken');
      expect(stderr).toContain('hint: fix line 2');
      stderr = '';
      expect(reportError(new UsageError('--vocab-size must be a positive integer'), true)).toBe(EXIT.usage);
      expect(JSON.parse(stderr.trim())).toMatchObject({ event: 'error', code: 'CLI_USAGE' });
    } finally {
      err.mockRestore();
    }
  });
});
