// `lmkit demo` end to end on a few addresses with a seconds-long training budget.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { reportError } from '../io.js';
import { registerDemoCommand } from './demo.js';

async function lmkit(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  const before = process.exitCode;
  process.exitCode = 0;
  const program = new Command('lmkit').option('--json').exitOverride();
  registerDemoCommand(program);
  try {
    await program.parseAsync(['node', 'lmkit', ...argv]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } catch (error) {
    return { code: reportError(error, argv.includes('--json')), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}

describe('lmkit demo', () => {
  it('runs clean → dedup → tokenizer → shards → train → eval → samples → report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lmkit-demo-')), 'demo');
    const r = await lmkit('--json', 'demo', '--files', '3', '--minutes', '0.05', '--vocab-size', '300', '--eval-tokens', '256', '--sample-tokens', '8', '--out', out);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const value = JSON.parse(r.stdout);
    expect(value).toMatchObject({ files: 3, vocabSize: 300 });
    expect(value.kept).toBeGreaterThan(0);
    expect(value.steps).toBeGreaterThan(0);
    expect(Number.isFinite(value.bitsPerByte)).toBe(true);
    // a unigram over a 300-token BPE on English costs a few bits per byte
    expect(value.unigramBitsPerByte).toBeGreaterThan(1);
    expect(value.unigramBitsPerByte).toBeLessThan(5);
    expect(value.samples).toHaveLength(3);
    for (const f of ['report.html', 'train/checkpoint/model.safetensors', 'tokenizer', 'tokens']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('unigram baseline bits/byte');
  });
});
