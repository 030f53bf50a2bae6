// `lmkit quantize --calibrate`: GPTQ on training shards, with f32 / round-to-nearest / GPTQ perplexity on held-out shards.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenShardWriter } from '@lmkit/data';
import { loadGgufModel } from '@lmkit/infer';
import { DecoderLM, getPreset, saveModel } from '@lmkit/model';
import { saveTokenizer, trainBpe, type Tokenizer } from '@lmkit/tokenizer';
import { EXIT } from '../io.js';
import { runCli } from '../test-cli.js';
import { registerInferCommands } from './infer.js';
import { registerQuantizeCommand } from './quantize.js';

const root = mkdtempSync(join(tmpdir(), 'lmkit-cli-quantize-'));
const modelDir = join(root, 'model');
const dataDir = join(root, 'data');
const lmkit = (...argv: string[]) => runCli([registerInferCommands, registerQuantizeCommand], ...argv);
const trainText = 'The quick brown fox jumps over the lazy dog. '.repeat(30) + 'Pack my box with five dozen liquor jugs. '.repeat(30);
const valText = 'The lazy dog sleeps while the quick fox jumps. '.repeat(10) + 'Five boxes of liquor jugs. '.repeat(10);
let tokenizer: Tokenizer;

async function writeShards(prefix: string, text: string): Promise<void> {
  const writer = new TokenShardWriter({ dir: dataDir, prefix, vocabSize: tokenizer.vocabSize });
  await writer.write(tokenizer.encodeOrdinary(text));
  await writer.close();
}

beforeAll(async () => {
  tokenizer = (await trainBpe([trainText], { vocabSize: 300, specialTokens: ['<|endoftext|>'] })).tokenizer;
  const model = new DecoderLM({ ...getPreset('tiny'), vocab_size: tokenizer.vocabSize } as never, { seed: 4 });
  await saveModel(model, modelDir);
  await saveTokenizer(tokenizer, modelDir);
  await writeShards('train', trainText);
  await writeShards('val', valText);
});

describe('lmkit quantize --calibrate (GPTQ)', () => {
  it('writes a GGUF from GPTQ and reports f32, round-to-nearest and GPTQ perplexity on the held-out shards', async () => {
    const out = join(root, 'q4-gptq');
    const r = await lmkit('--json', 'quantize', '--model', modelDir, '--format', 'q4_0', '--out', out, '--calibrate', dataDir, '--calib-samples', '6', '--calib-seq-len', '48', '--data', dataDir, '--max-tokens', '150');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const report = lines.at(-1);
    expect(report).toMatchObject({ method: 'gptq', format: 'q4_0', tokens: 150, calibration: { sequences: 6, seq_len: 48, scale_search: false, layers: 4 * 4 + 1 } }); // 16 linears + the tied head
    expect(report.calibration.shards).toEqual([join(dataDir, 'train_000000.bin')]);
    for (const key of ['perplexity_f32', 'perplexity_rtn', 'perplexity_gptq']) expect(report[key], key).toBeGreaterThan(1);
    expect(report.perplexity_quantized).toBe(report.perplexity_gptq);
    expect(report.perplexity_gptq).not.toBe(report.perplexity_rtn); // a different quantization really was written
    expect(r.stderr).toContain('"label":"gptq"'); // --json progress lines, layer by layer
    expect((await loadGgufModel(join(out, 'model.gguf'))).format).toBe('q4_0');
    const g = await lmkit('generate', '--model', out, '--prompt', 'The', '--max-new-tokens', '4', '--greedy');
    expect(g.code).toBe(0);
  });

  it('refuses to measure on the shards it calibrated on', async () => {
    const r = await lmkit('quantize', '--model', modelDir, '--format', 'q8_0', '--out', join(root, 'x'), '--calibrate', join(dataDir, '..', 'data'), '--calib-samples', '4', '--data', dataDir, '--max-tokens', '100');
    // train_* calibrates and val_* measures, so the same directory is fine; the same shard twice is not:
    expect(r.code).toBe(0);
    const only = join(root, 'only-val');
    const writer = new TokenShardWriter({ dir: only, prefix: 'val', vocabSize: tokenizer.vocabSize });
    await writer.write(tokenizer.encodeOrdinary(valText));
    await writer.close();
    const bad = await lmkit('quantize', '--model', modelDir, '--format', 'q8_0', '--out', join(root, 'y'), '--calibrate', only, '--data', only);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/--calibrate and --data share .*val_000000\.bin/);
    expect(existsSync(join(root, 'y', 'model.gguf'))).toBe(false);
  });

  it('calibration flags without --calibrate are a usage error naming the flag', async () => {
    const r = await lmkit('quantize', '--model', modelDir, '--format', 'q4_0', '--out', join(root, 'z'), '--calib-samples', '8');
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--calib-samples needs --calibrate DIR');
  });
});
