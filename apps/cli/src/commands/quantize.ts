// `lmkit quantize`: write a q8_0/q4_0 GGUF of a trained model and report its size and perplexity change.
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openModelDir, saveGgufModel } from '@lmkit/infer';
import { saveTokenizer } from '@lmkit/tokenizer';
import { action, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';
import { evalOnShards } from './infer.js';

/** Registers `lmkit quantize`. */
export function registerQuantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description('quantize a model to q8_0 or q4_0 (GGUF, llama.cpp layout) and report size and perplexity change')
    .requiredOption('--model <dir>', 'f32 model directory (config.json + model.safetensors)')
    .requiredOption('--format <format>', 'q8_0 or q4_0')
    .requiredOption('--out <dir>', 'output directory: model.gguf plus the tokenizer files')
    .option('--data <dir>', 'held-out token shards to measure the perplexity change on')
    .option('--max-tokens <n>', 'tokens to score for the perplexity change (default 8192)', parsePositiveInt('--max-tokens'))
    .option('--tokenizer <path>', 'tokenizer directory or file (default: the one saved with the model)')
    .option('--encoding <name>', 'an OpenAI encoding instead of a saved tokenizer')
    .action(
      action(async (flags: { model: string; format: string; out: string; data?: string; maxTokens?: number; tokenizer?: string; encoding?: string }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        if (flags.format !== 'q8_0' && flags.format !== 'q4_0') throw new UsageError(`--format must be q8_0 or q4_0, got "${flags.format}"`);
        const choice = { ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }), ...(flags.encoding === undefined ? {} : { encoding: flags.encoding }) };
        const f32 = await openModelDir(flags.model, choice);
        if (f32.runner.quantization) throw new UsageError(`--model ${flags.model} is already quantized (${f32.runner.quantization})`, 'quantize the f32 checkpoint instead');
        await mkdir(flags.out, { recursive: true });
        const path = join(flags.out, 'model.gguf');
        const written = await saveGgufModel(f32.runner.model, path, flags.format, f32.tokenizer.tokenizer);
        await saveTokenizer(f32.tokenizer.tokenizer, flags.out);
        const sourceFile = join(flags.model, 'model.safetensors');
        const sourceBytes = existsSync(sourceFile) ? statSync(sourceFile).size : NaN;
        const result: Record<string, unknown> = {
          out: path,
          format: flags.format,
          bytes: written.bytes,
          source_bytes: sourceBytes,
          ratio: +(written.bytes / sourceBytes).toFixed(4),
          quantized_tensors: written.quantized,
          f32_tensors: written.f32,
        };
        let text = `wrote ${path}: ${(written.bytes / 1e6).toFixed(2)} MB (${flags.format}; f32 safetensors ${(sourceBytes / 1e6).toFixed(2)} MB, ×${(written.bytes / sourceBytes).toFixed(3)})`;
        if (flags.data) {
          const maxTokens = flags.maxTokens ?? 8192;
          const before = await evalOnShards(f32, flags.data, maxTokens, Boolean(global.json));
          const quantized = await openModelDir(flags.out, choice);
          const after = await evalOnShards(quantized, flags.data, maxTokens, Boolean(global.json));
          Object.assign(result, {
            tokens: after.tokens,
            perplexity_f32: before.perplexity,
            perplexity_quantized: after.perplexity,
            perplexity_change: after.perplexity / before.perplexity - 1,
            bits_per_byte_f32: before.bitsPerByte,
            bits_per_byte_quantized: after.bitsPerByte,
          });
          text += `\nperplexity on ${after.tokens} held-out tokens: f32 ${before.perplexity.toFixed(4)} → ${flags.format} ${after.perplexity.toFixed(4)} (${((after.perplexity / before.perplexity - 1) * 100).toFixed(3)}%)`;
        }
        printResult(global, result, text);
      }),
    );
}
