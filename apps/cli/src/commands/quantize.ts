// `lmkit quantize`: write a q8_0/q4_0 GGUF of a trained model (round-to-nearest, or GPTQ on calibration shards) and report size and perplexity change.
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fromDecoderLM, gptqQuantize, loadGgufModel, openModelDir, saveGgufModel, type OpenedModel, type QuantFormat } from '@lmkit/infer';
import { saveTokenizer } from '@lmkit/tokenizer';
import { action, parseNumber, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';
import { evalOnShards, heldOutShards, readShardTokens, tokenShardsIn } from './infer.js';

/** The flags of `lmkit quantize`. */
interface QuantizeFlags {
  model: string;
  format: string;
  out: string;
  data?: string;
  maxTokens?: number;
  tokenizer?: string;
  encoding?: string;
  calibrate?: string;
  calibSamples?: number;
  calibSeqLen?: number;
  damp?: number;
  scaleSearch?: boolean;
  actOrder?: boolean;
}

/** The calibration shards: `train_*.bin` in DIR if any, else every `*.bin`. */
function calibrationShards(dir: string): Promise<string[]> {
  return tokenShardsIn(dir, 'train', '--calibrate', 'give the output directory of `lmkit data pretokenize` (training shards)');
}

/** Perplexity of the round-to-nearest GGUF of `f32` (written to a temporary file, read back as any GGUF is). */
async function roundToNearestEval(f32: OpenedModel, format: QuantFormat, data: string, maxTokens: number, json: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'lmkit-rtn-'));
  try {
    await saveGgufModel(f32.runner.model, join(dir, 'model.gguf'), format);
    const loaded = await loadGgufModel(join(dir, 'model.gguf'));
    const opened: OpenedModel = { id: `${f32.id}-rtn`, runner: fromDecoderLM(loaded.model, { prequantized: loaded.quantized }), tokenizer: f32.tokenizer };
    return await evalOnShards(opened, data, maxTokens, json);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Registers `lmkit quantize`. */
export function registerQuantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description('quantize a model to q8_0 or q4_0 (GGUF, llama.cpp layout), round-to-nearest or GPTQ-calibrated, and report size and perplexity change')
    .requiredOption('--model <dir>', 'f32 model directory (config.json + model.safetensors)')
    .requiredOption('--format <format>', 'q8_0 or q4_0')
    .requiredOption('--out <dir>', 'output directory: model.gguf plus the tokenizer files')
    .option('--data <dir>', 'held-out token shards to measure the perplexity change on')
    .option('--max-tokens <n>', 'tokens to score for the perplexity change (default 8192)', parsePositiveInt('--max-tokens'))
    .option('--tokenizer <path>', 'tokenizer directory or file (default: the one saved with the model)')
    .option('--encoding <name>', 'an OpenAI encoding instead of a saved tokenizer')
    .option('--calibrate <dir>', 'token shards to calibrate GPTQ on (train_*.bin, else every .bin); without it, round-to-nearest')
    .option('--calib-samples <n>', 'GPTQ calibration sequences (default 128)', parsePositiveInt('--calib-samples'))
    .option('--calib-seq-len <n>', 'tokens per calibration sequence (default min(256, context))', parsePositiveInt('--calib-seq-len'))
    .option('--damp <x>', 'GPTQ dampening, a fraction of the mean Hessian diagonal (default 0.01)', parseNumber('--damp'))
    .option('--scale-search', 'GPTQ picks each block scale from a grid by activation-weighted error (imatrix-style)')
    .option('--act-order', 'GPTQ quantizes columns by decreasing activation energy, with static block scales')
    .action(
      action(async (flags: QuantizeFlags, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const json = Boolean(global.json);
        if (flags.format !== 'q8_0' && flags.format !== 'q4_0') throw new UsageError(`--format must be q8_0 or q4_0, got "${flags.format}"`);
        const format: QuantFormat = flags.format;
        if (!flags.calibrate) {
          for (const [flag, value] of [['--calib-samples', flags.calibSamples], ['--calib-seq-len', flags.calibSeqLen], ['--damp', flags.damp], ['--scale-search', flags.scaleSearch], ['--act-order', flags.actOrder]] as const) {
            if (value !== undefined) throw new UsageError(`${flag} needs --calibrate DIR`, 'give the training shards to calibrate GPTQ on');
          }
        }
        if (flags.damp !== undefined && !(flags.damp >= 0 && flags.damp <= 1)) throw new UsageError(`--damp must be in [0, 1], got ${flags.damp}`, 'the GPTQ paper uses 0.01');
        const calibShards = flags.calibrate ? await calibrationShards(flags.calibrate) : [];
        if (flags.data && calibShards.length > 0) {
          const held = new Set((await heldOutShards(flags.data)).map((p) => resolve(p)));
          const shared = calibShards.filter((p) => held.has(resolve(p)));
          if (shared.length > 0) throw new UsageError(`--calibrate and --data share ${shared.join(', ')}`, 'calibrate on training shards and measure on held-out ones (e.g. train_*.bin vs val_*.bin)');
        }

        const choice = { ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }), ...(flags.encoding === undefined ? {} : { encoding: flags.encoding }) };
        const f32 = await openModelDir(flags.model, choice);
        if (f32.runner.quantization) throw new UsageError(`--model ${flags.model} is already quantized (${f32.runner.quantization})`, 'quantize the f32 checkpoint instead');
        const maxTokens = flags.maxTokens ?? 8192;
        // Measured before GPTQ, which rewrites the model's weights in place.
        const before = flags.data ? await evalOnShards(f32, flags.data, maxTokens, json) : null;
        const rtn = flags.data && flags.calibrate ? await roundToNearestEval(f32, format, flags.data, maxTokens, json) : null;

        const result: Record<string, unknown> = { method: flags.calibrate ? 'gptq' : 'rtn' };
        let text = '';
        if (flags.calibrate) {
          const samples = flags.calibSamples ?? 128;
          const seqLen = Math.min(flags.calibSeqLen ?? 256, f32.runner.model.spec.maxPositions);
          const ids = await readShardTokens(calibShards, Math.max(1 << 20, samples * seqLen * 8));
          if (ids.length < 2) throw new UsageError(`--calibrate ${flags.calibrate}: the shards hold ${ids.length} tokens`, 'calibrate on a few thousand tokens or more');
          const start = performance.now();
          const gptq = gptqQuantize(f32.runner.model, ids, {
            format, samples, seqLen, scaleSearch: flags.scaleSearch ?? false, actOrder: flags.actOrder ?? false, progress: json ? 'json' : 'auto',
            ...(flags.damp === undefined ? {} : { damp: flags.damp }),
          });
          const seconds = (performance.now() - start) / 1000;
          result.calibration = { shards: calibShards, sequences: gptq.sequences, seq_len: gptq.seqLen, scale_search: flags.scaleSearch ?? false, act_order: flags.actOrder ?? false, seconds: +seconds.toFixed(2), layers: gptq.layers.filter((l) => l.method === 'gptq').length };
          text += `GPTQ on ${gptq.sequences} × ${gptq.seqLen} calibration tokens: ${gptq.layers.length} matrices in ${seconds.toFixed(1)} s\n`;
        }

        await mkdir(flags.out, { recursive: true });
        const path = join(flags.out, 'model.gguf');
        const written = await saveGgufModel(f32.runner.model, path, format, f32.tokenizer.tokenizer);
        await saveTokenizer(f32.tokenizer.tokenizer, flags.out);
        const sourceFile = join(flags.model, 'model.safetensors');
        const sourceBytes = existsSync(sourceFile) ? statSync(sourceFile).size : NaN;
        Object.assign(result, {
          out: path,
          format,
          bytes: written.bytes,
          source_bytes: sourceBytes,
          ratio: +(written.bytes / sourceBytes).toFixed(4),
          quantized_tensors: written.quantized,
          f32_tensors: written.f32,
        });
        text += `wrote ${path}: ${(written.bytes / 1e6).toFixed(2)} MB (${format}${flags.calibrate ? ', GPTQ' : ''}; f32 safetensors ${(sourceBytes / 1e6).toFixed(2)} MB, ×${(written.bytes / sourceBytes).toFixed(3)})`;
        if (flags.data && before) {
          const quantized = await openModelDir(flags.out, choice);
          const after = await evalOnShards(quantized, flags.data, maxTokens, json);
          const pct = (p: number) => `${((p / before.perplexity - 1) * 100).toFixed(3)}%`;
          Object.assign(result, {
            tokens: after.tokens,
            perplexity_f32: before.perplexity,
            perplexity_quantized: after.perplexity,
            perplexity_change: after.perplexity / before.perplexity - 1,
            bits_per_byte_f32: before.bitsPerByte,
            bits_per_byte_quantized: after.bitsPerByte,
          });
          if (rtn) Object.assign(result, { perplexity_rtn: rtn.perplexity, perplexity_gptq: after.perplexity, bits_per_byte_rtn: rtn.bitsPerByte });
          text += rtn
            ? `\nperplexity on ${after.tokens} held-out tokens: f32 ${before.perplexity.toFixed(4)}, ${format} round-to-nearest ${rtn.perplexity.toFixed(4)} (${pct(rtn.perplexity)}), ${format} GPTQ ${after.perplexity.toFixed(4)} (${pct(after.perplexity)})`
            : `\nperplexity on ${after.tokens} held-out tokens: f32 ${before.perplexity.toFixed(4)} → ${format} ${after.perplexity.toFixed(4)} (${pct(after.perplexity)})`;
        }
        printResult(global, result, text);
      }),
    );
}
