// `lmkit demo` end to end on a few addresses with a seconds-long training budget.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-cli.js';
import { registerDemoCommand } from './demo.js';

const lmkit = (...argv: string[]) => runCli([registerDemoCommand], ...argv);

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
    for (const f of ['report.html', 'train/checkpoint/model.safetensors', 'train/checkpoint/tokenizer/lmkit.json', 'tokenizer', 'tokens']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('unigram baseline bits/byte');
  });
});
