// `lmkit generate | eval | quantize` end to end on a small model saved to disk with a trained tokenizer.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenShardWriter } from '@lmkit/data';
import { DecoderLM, getPreset, saveModel } from '@lmkit/model';
import { saveTokenizer, trainBpe, type Tokenizer } from '@lmkit/tokenizer';
import { EXIT } from '../io.js';
import { runCli } from '../test-cli.js';
import { registerInferCommands } from './infer.js';
import { registerQuantizeCommand } from './quantize.js';

const root = mkdtempSync(join(tmpdir(), 'lmkit-cli-infer-'));
const modelDir = join(root, 'model');
const dataDir = join(root, 'data');
const lmkit = (...argv: string[]) => runCli([registerInferCommands, registerQuantizeCommand], ...argv);
const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20) + 'Pack my box with five dozen liquor jugs. '.repeat(20);
let tokenizer: Tokenizer;

beforeAll(async () => {
  tokenizer = (await trainBpe([text], { vocabSize: 300, specialTokens: ['<|endoftext|>'] })).tokenizer;
  const model = new DecoderLM({ ...getPreset('tiny'), vocab_size: tokenizer.vocabSize } as never, { seed: 2 });
  await saveModel(model, modelDir);
  await saveTokenizer(tokenizer, modelDir);
  const writer = new TokenShardWriter({ dir: dataDir, prefix: 'val', vocabSize: tokenizer.vocabSize });
  await writer.write(tokenizer.encodeOrdinary(text));
  await writer.close();
});

describe('lmkit generate', () => {
  it('streams text and is reproducible with --seed', async () => {
    const a = await lmkit('generate', '--model', modelDir, '--prompt', 'The quick', '--max-new-tokens', '12', '--seed', '3');
    const b = await lmkit('generate', '--model', modelDir, '--prompt', 'The quick', '--max-new-tokens', '12', '--seed', '3');
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(1);
    expect(a.stdout).toBe(b.stdout);
  });
  it('--json reports tokens and speed', async () => {
    const r = await lmkit('--json', 'generate', '--model', modelDir, '--prompt', 'The', '--max-new-tokens', '5', '--greedy');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ completion_tokens: expect.any(Number), finish_reason: expect.any(String) });
  });
  it('a missing model directory is a clear error', async () => {
    const r = await lmkit('generate', '--model', join(root, 'nope'), '--prompt', 'x');
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr).toMatch(/INFER_NO_MODEL.*no config.json or model.gguf/);
  });
});

describe('lmkit eval and quantize', () => {
  it('eval prints perplexity and bits per byte', async () => {
    const r = await lmkit('--json', 'eval', '--model', modelDir, '--data', dataDir, '--max-tokens', '200');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.tokens).toBe(200);
    expect(out.perplexity).toBeGreaterThan(1);
    expect(out.bitsPerByte).toBeGreaterThan(0);
  });
  it('quantize writes a GGUF that generate and eval load, and reports size and perplexity change', async () => {
    const out = join(root, 'q8');
    const r = await lmkit('--json', 'quantize', '--model', modelDir, '--format', 'q8_0', '--out', out, '--data', dataDir, '--max-tokens', '200');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(existsSync(join(out, 'model.gguf'))).toBe(true);
    expect(report.ratio).toBeLessThan(0.6);
    expect(Math.abs(report.perplexity_change)).toBeLessThan(0.02);
    const g = await lmkit('generate', '--model', out, '--prompt', 'The', '--max-new-tokens', '4', '--greedy');
    expect(g.code).toBe(0);
  });
  it('rejects an unknown format naming the flag', async () => {
    const r = await lmkit('quantize', '--model', modelDir, '--format', 'q3_k', '--out', join(root, 'x'));
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--format must be q8_0 or q4_0');
  });
});
