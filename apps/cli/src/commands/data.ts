// `lmkit data`: clean, dedup, redact, stats, mix and pretokenize corpora with @lmkit/data.
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { atomicWriteFile, createProgress } from '@lmkit/core';
import {
  DEFAULT_CLEAN_DEDUP,
  DEFAULT_CLEAN_STEPS,
  formatOf,
  JsonlShardWriter,
  loadPipelineConfig,
  mixSources,
  pretokenize,
  rankFromEnv,
  readDocuments,
  runPipeline,
  validatePipelineConfig,
  type Document,
  type PipelineConfig,
  type PipelineResult,
  type ReaderOptions,
  type RunOptions,
  type StepSpec,
} from '@lmkit/data';
import { getEncoding, loadTokenizer, saveTokenizer, ENCODING_NAMES, type EncodingName, type Tokenizer } from '@lmkit/tokenizer';
import { action, parseNumber, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';

/** Options every pipeline-running subcommand shares. */
interface PipelineFlags {
  out: string;
  config?: string;
  workers?: number;
  rank?: number;
  worldSize?: number;
  textField?: string;
  compression?: 'none' | 'gzip' | 'zstd';
  paragraphs?: boolean;
}

/** True for an output directory of `lmkit data clean` (its excluded/, state/ and stats hold no input documents). */
function isPipelineOutput(dir: string): boolean {
  return existsSync(join(dir, 'stats.json')) && existsSync(join(dir, 'completions'));
}

/**
 * Expands directories into the readable files under them (sorted, so document keys are stable).
 * Hidden entries are skipped, and an output directory of `lmkit data clean` gives only its kept
 * shards, never its excluded documents or run state.
 */
async function expandInputs(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new UsageError(`${input}: no such file or directory`);
    }
    if (!info.isDirectory()) {
      files.push(input);
      continue;
    }
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const outputDir = isPipelineOutput(dir);
      for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!outputDir) await walk(path);
        } else if (!outputDir || /\.jsonl(\.gz|\.zst)?$/.test(entry.name)) {
          try {
            formatOf(path);
            found.push(path);
          } catch {
            // not an input format: skip
          }
        }
      }
    };
    await walk(input);
    if (found.length === 0) throw new UsageError(`${input}: no .jsonl/.txt/.parquet/.html/.warc files inside`);
    files.push(...found);
  }
  return files;
}

function addPipelineFlags(command: Command): Command {
  return command
    .requiredOption('--out <dir>', 'output directory (resumes if it holds an interrupted run)')
    .option('--config <file>', 'pipeline config (JSON or YAML); flags override it')
    .option('--workers <n>', 'local worker processes', parsePositiveInt('--workers'))
    .option('--rank <r>', 'run only this rank of an array job (default: SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--rank must be a non-negative integer, got "${v}"`);
      return n;
    })
    .option('--world-size <n>', 'ranks in the array job (default: SLURM_ARRAY_TASK_COUNT / LMKIT_WORLD_SIZE)', parsePositiveInt('--world-size'))
    .option('--text-field <name>', 'JSONL/Parquet field with the text', 'text')
    .option('--paragraphs', '.txt inputs: one document per blank-line-separated block instead of per file')
    .option('--compression <kind>', 'output compression: none, gzip or zstd (zstd needs Node >= 22.15)', 'none');
}

/** Builds the config from --config (if any) and the flags, and the run options from flags or the environment. */
async function pipelineFrom(inputs: string[], flags: PipelineFlags, steps: readonly StepSpec[], dedup: readonly StepSpec[]): Promise<{ config: PipelineConfig; run: RunOptions }> {
  if (!['none', 'gzip', 'zstd'].includes(flags.compression ?? 'none')) throw new UsageError(`--compression must be none, gzip or zstd, got "${flags.compression}"`);
  const overrides: Partial<PipelineConfig> = {
    inputs: await expandInputs(inputs),
    outDir: flags.out,
    ...(flags.textField === undefined ? {} : { textField: flags.textField }),
    ...(flags.paragraphs ? { txtMode: 'paragraph' as const } : {}),
    ...(flags.compression === undefined ? {} : { compression: flags.compression }),
  };
  const config = flags.config
    ? await loadPipelineConfig(flags.config, overrides)
    : validatePipelineConfig({ steps: [...steps], dedup: [...dedup], ...overrides }, 'command line');
  if (config.inputs.length === 0) throw new UsageError('no input files given');
  const env = flags.rank === undefined ? rankFromEnv(process.env, flags.worldSize) : undefined;
  let run: RunOptions;
  if (flags.rank !== undefined) {
    if (flags.worldSize === undefined) throw new UsageError('--rank needs --world-size');
    if (flags.rank >= flags.worldSize) throw new UsageError(`--rank ${flags.rank} must be below --world-size ${flags.worldSize}`);
    run = { rank: flags.rank, worldSize: flags.worldSize };
  } else if (env) run = { rank: env.rank, worldSize: env.worldSize };
  else run = { workers: flags.workers ?? 1 };
  return { config, run };
}

/** Prints the run summary: what each step removed, how many records were unreadable, where everything is. */
function summarize(options: GlobalOptions, label: string, result: PipelineResult): void {
  const { stats, outDir } = result;
  const read = stats.steps[0]?.in ?? 0;
  const bad = stats.steps[0]?.dropped ?? 0;
  const rel = relative(process.cwd(), outDir) || '.';
  const value = {
    outDir,
    merged: result.merged,
    stats,
    skipped: bad,
    excluded: join(outDir, 'excluded'),
    ...(result.merged ? { statsFile: join(outDir, 'stats.json'), report: join(outDir, 'report.html') } : {}),
  };
  const pct = (n: number, of: number): string => (of > 0 ? ((100 * n) / of).toFixed(1) : '0.0');
  const lines = [
    `${label}: ${read} records (${(stats.inputBytes / 1e6).toFixed(1)} MB) → ${stats.outputDocuments} kept (${pct(stats.outputDocuments, read)}%) in ${stats.seconds.toFixed(1)} s on ${stats.ranks} rank(s)`,
    ...stats.steps.map((s) => {
      const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([r, n]) => `${r} ${n}`).join(', ');
      return `  ${s.name.padEnd(18)} -${String(s.dropped).padEnd(8)} ${pct(s.dropped, s.in).padStart(5)}%  ${s.seconds.toFixed(2).padStart(7)} s  ${reasons}`;
    }),
  ];
  if (bad > 0) lines.push(`skipped ${bad} unreadable record(s): see ${rel}/excluded/ (step "reader", with file:line)`);
  lines.push(result.merged ? `output: ${rel}/*.jsonl  stats: ${rel}/stats.json  report: ${rel}/report.html` : `rank done; rank 0 merges stats.json and report.html when every rank has finished`);
  printResult(options, value, lines.join('\n'));
}

async function runSubcommand(command: Command, label: string, inputs: string[], steps: readonly StepSpec[], dedup: readonly StepSpec[]): Promise<void> {
  const global = command.optsWithGlobals() as GlobalOptions & PipelineFlags;
  const { config, run } = await pipelineFrom(inputs, global, steps, dedup);
  const result = await runPipeline(config, { ...run, label, progress: global.json ? 'json' : 'auto' });
  summarize(global, label, result);
}

/** Streams the documents of several inputs, counting unreadable records instead of failing. */
async function* documentsOf(inputs: string[], reader: ReaderOptions, bad: { count: number; first?: string }): AsyncGenerator<Document> {
  for (const path of inputs) {
    for await (const item of readDocuments(path, reader)) {
      if (item.kind === 'doc') yield item.doc;
      else {
        bad.count++;
        bad.first ??= `${item.location}: ${item.reason} (${item.message})`;
      }
    }
  }
}

/** Loads the tokenizer named by --encoding or --tokenizer (exactly one when `required`). */
async function tokenizerFrom(opts: { encoding?: string; tokenizer?: string }, required: boolean): Promise<Tokenizer | undefined> {
  if (opts.encoding !== undefined && opts.tokenizer !== undefined) throw new UsageError('give only one of --encoding NAME or --tokenizer DIR');
  if (opts.encoding === undefined && opts.tokenizer === undefined) {
    if (required) throw new UsageError('give exactly one of --encoding NAME or --tokenizer DIR');
    return undefined;
  }
  if (opts.encoding !== undefined && !(ENCODING_NAMES as readonly string[]).includes(opts.encoding)) {
    throw new UsageError(`--encoding must be one of ${ENCODING_NAMES.join(', ')}, got "${opts.encoding}"`);
  }
  return opts.encoding !== undefined ? getEncoding(opts.encoding as EncodingName) : loadTokenizer(opts.tokenizer!);
}

/** Parses a mix source `PATH[=WEIGHT]`. */
function parseMixSource(arg: string): { path: string; weight: number } {
  const at = arg.lastIndexOf('=');
  if (at < 0) return { path: arg, weight: 1 };
  const weight = Number(arg.slice(at + 1));
  if (!(weight > 0) || !Number.isFinite(weight)) throw new UsageError(`mix source "${arg}": the weight after "=" must be a positive number`);
  return { path: arg.slice(0, at), weight };
}

/** Registers `lmkit data <clean|dedup|redact|stats|mix|pretokenize>` on the program. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('clean, de-duplicate, redact, inspect, mix and pretokenize text corpora');

  addPipelineFlags(
    data
      .command('clean')
      .description('filter, redact and de-duplicate a corpus: LID(en) → Gopher repetition → Gopher quality → C4 → FineWeb → PII → exact + MinHash dedup')
      .argument('<inputs...>', 'JSONL (.gz/.zst), .txt, .parquet, .html, .warc/.wet files or directories'),
  ).action(action(async (inputs: string[], _opts: unknown, command: Command) => runSubcommand(command, 'clean', inputs, DEFAULT_CLEAN_STEPS, DEFAULT_CLEAN_DEDUP)));

  addPipelineFlags(
    data
      .command('dedup')
      .description('remove duplicate documents across all inputs (exact hash and/or MinHash-LSH near-duplicates, or sentence spans)')
      .argument('<inputs...>', 'input files or directories')
      .option('--method <list>', 'comma-separated: exact, minhash, sentence', 'exact,minhash'),
  ).action(
    action(async (inputs: string[], opts: { method: string }, command: Command) => {
      const types: Record<string, string> = { exact: 'exact', minhash: 'minhash', sentence: 'sentence_dedup' };
      const methods = opts.method.split(',').map((m) => m.trim()).filter(Boolean);
      const unknown = methods.find((m) => !(m in types));
      if (unknown !== undefined || methods.length === 0) throw new UsageError(`--method must list exact, minhash or sentence, got "${opts.method}"`);
      await runSubcommand(command, 'dedup', inputs, [], methods.map((m) => ({ type: types[m]! })));
    }),
  );

  addPipelineFlags(
    data
      .command('redact')
      .description('redact PII (emails, phones, public IPs, cards, IBANs; addresses and names on request)')
      .argument('<inputs...>', 'input files or directories')
      .option('--mode <mode>', 'redact, replace, mask or hash', 'replace')
      .option('--types <list>', 'comma-separated: email,phone,ip,credit_card,iban,address,name (default: all but address and name)')
      .option('--salt <secret>', 'salt for --mode hash'),
  ).action(
    action(async (inputs: string[], opts: { mode: string; types?: string; salt?: string }, command: Command) => {
      if (!['redact', 'replace', 'mask', 'hash'].includes(opts.mode)) throw new UsageError(`--mode must be redact, replace, mask or hash, got "${opts.mode}"`);
      if (opts.mode === 'hash' && !opts.salt) throw new UsageError('--mode hash needs --salt (a secret, so hashes cannot be reversed by guessing)');
      const options: Record<string, unknown> = { mode: opts.mode };
      if (opts.types) options.types = opts.types.split(',').map((t) => t.trim());
      if (opts.salt) options.salt = opts.salt;
      await runSubcommand(command, 'redact', inputs, [{ type: 'pii', options }], []);
    }),
  );

  data
    .command('stats')
    .description('count documents, characters, words and unreadable records of a corpus')
    .argument('<inputs...>', 'input files or directories')
    .option('--text-field <name>', 'JSONL/Parquet field with the text', 'text')
    .option('--paragraphs', '.txt inputs: one document per blank-line-separated block')
    .action(
      action(async (inputs: string[], opts: { textField: string; paragraphs?: boolean }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const files = await expandInputs(inputs);
        const bad = { count: 0 } as { count: number; first?: string };
        const lengths: number[] = [];
        let chars = 0;
        let words = 0;
        let bytes = 0;
        for await (const doc of documentsOf(files, { textField: opts.textField, ...(opts.paragraphs ? { txtMode: 'paragraph' } : {}) }, bad)) {
          chars += doc.text.length;
          bytes += Buffer.byteLength(doc.text);
          words += doc.text.split(/\s+/).filter(Boolean).length;
          lengths.push(doc.text.length);
        }
        lengths.sort((a, b) => a - b);
        const q = (p: number): number => (lengths.length ? lengths[Math.min(lengths.length - 1, Math.floor(p * lengths.length))]! : 0);
        const value = { files: files.length, documents: lengths.length, unreadable: bad.count, characters: chars, words, textBytes: bytes, length: { p10: q(0.1), median: q(0.5), p90: q(0.9), max: lengths.at(-1) ?? 0 } };
        const text = [
          `${value.documents} documents in ${value.files} file(s); ${value.unreadable} unreadable${bad.first ? ` (first: ${bad.first})` : ''}`,
          `${chars} characters, ${words} words, ${(bytes / 1e6).toFixed(2)} MB of text`,
          `document length (chars): p10 ${value.length.p10}, median ${value.length.median}, p90 ${value.length.p90}, max ${value.length.max}`,
        ].join('\n');
        printResult(global, value, text);
      }),
    );

  data
    .command('mix')
    .description('sample documents from several sources in given token proportions up to a token budget')
    .argument('<sources...>', 'PATH[=WEIGHT] per source (a file or directory; weight default 1)')
    .requiredOption('--out <dir>', 'output directory for mix_*.jsonl and mix-report.json')
    .requiredOption('--tokens <n>', 'token budget of the mix', parsePositiveInt('--tokens'))
    .option('--encoding <name>', 'count tokens with an OpenAI encoding (default: UTF-8 bytes / 4)')
    .option('--tokenizer <dir>', 'count tokens with a trained tokenizer directory')
    .option('--seed <n>', 'seed of the deterministic interleaving', parseNumber('--seed'), 0)
    .option('--repeat', 'repeat (upsample) a source that runs out instead of dropping it')
    .option('--text-field <name>', 'JSONL/Parquet field with the text', 'text')
    .action(
      action(async (args: string[], opts: { out: string; tokens: number; encoding?: string; tokenizer?: string; seed: number; repeat?: boolean; textField: string }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const tokenizer = await tokenizerFrom(opts, false);
        const bad = { count: 0 } as { count: number; first?: string };
        const sources = await Promise.all(
          args.map(async (arg) => {
            const { path, weight } = parseMixSource(arg);
            const files = await expandInputs([path]);
            return { name: path, weight, open: () => documentsOf(files, { textField: opts.textField }, bad) };
          }),
        );
        const mix = mixSources(sources, {
          tokenBudget: opts.tokens,
          seed: opts.seed,
          ...(opts.repeat ? { repeat: true } : {}),
          ...(tokenizer ? { countTokens: (text: string) => tokenizer.encodeOrdinary(text).length } : {}),
        });
        const progress = createProgress({ label: 'mix', unit: 'tok', total: opts.tokens, mode: global.json ? 'json' : 'auto' });
        const writer = new JsonlShardWriter({ dir: opts.out, prefix: 'mix' });
        for await (const doc of mix) {
          await writer.write(doc);
          progress.update(Math.min(opts.tokens, mix.report.tokens));
        }
        const files = await writer.close();
        progress.stop();
        const report = { ...mix.report, files, unreadable: bad.count, tokenCounter: tokenizer ? tokenizer.name : 'utf8_bytes/4' };
        await atomicWriteFile(join(opts.out, 'mix-report.json'), JSON.stringify(report, null, 1) + '\n');
        const text = [
          `mixed ${report.documents} documents, ${report.tokens} tokens (${report.tokenCounter}) into ${files.length} file(s) in ${opts.out}`,
          ...report.sources.map((s) => `  ${s.name}: ${(100 * s.share).toFixed(1)}% of tokens (target ${(100 * s.targetShare).toFixed(1)}%), ${s.documents} docs${s.epochs > 1 ? `, ${s.epochs} epochs` : ''}${s.exhausted ? ', ran out' : ''}`),
          ...(bad.count > 0 ? [`skipped ${bad.count} unreadable record(s); first: ${bad.first}`] : []),
        ].join('\n');
        printResult(global, report, text);
      }),
    );

  data
    .command('pretokenize')
    .description('tokenize documents into llm.c/nanoGPT .bin shards (EOT before each document): DIR/train_*.bin, DIR/val_*.bin')
    .argument('<inputs...>', 'input files or directories')
    .requiredOption('--out <dir>', 'output directory')
    .option('--encoding <name>', `an OpenAI encoding: ${ENCODING_NAMES.join(', ')}`)
    .option('--tokenizer <dir>', 'a tokenizer directory saved by `lmkit tokenizer train`')
    .option('--val-fraction <f>', 'fraction of tokens for validation', parseNumber('--val-fraction'), 0.01)
    .option('--shard-tokens <n>', 'tokens per shard', parsePositiveInt('--shard-tokens'), 100_000_000)
    .option('--text-field <name>', 'JSONL/Parquet field with the text', 'text')
    .option('--paragraphs', '.txt inputs: one document per blank-line-separated block')
    .action(
      action(async (inputs: string[], opts: { out: string; encoding?: string; tokenizer?: string; valFraction: number; shardTokens: number; textField: string; paragraphs?: boolean }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        if (!(opts.valFraction >= 0 && opts.valFraction < 1)) throw new UsageError(`--val-fraction must be in [0, 1), got ${opts.valFraction}`);
        const tokenizer = (await tokenizerFrom(opts, true))!;
        const files = await expandInputs(inputs);
        const eot = tokenizer.specialTokens.get('<|endoftext|>');
        if (eot === undefined) {
          throw new UsageError(`tokenizer "${tokenizer.name}" has no <|endoftext|> special token to separate documents`, 'train it with `lmkit tokenizer train ... --special "<|endoftext|>"`');
        }
        const bad = { count: 0 } as { count: number; first?: string };
        const progress = createProgress({ label: 'pretokenize', unit: 'tok', mode: global.json ? 'json' : 'auto' });
        const started = performance.now();
        const result = await pretokenize(documentsOf(files, { textField: opts.textField, ...(opts.paragraphs ? { txtMode: 'paragraph' } : {}) }, bad), {
          encoder: { encode: (text) => tokenizer.encodeOrdinary(text), eotToken: eot, vocabSize: tokenizer.vocabSize },
          outDir: opts.out,
          valFraction: opts.valFraction,
          shardTokens: opts.shardTokens,
          onProgress: (tokens) => progress.update(tokens),
        });
        progress.stop();
        // NOTE: the shards travel with their tokenizer, so `lmkit train` can put it beside the checkpoint.
        await saveTokenizer(tokenizer, join(opts.out, 'tokenizer'));
        const seconds = (performance.now() - started) / 1000;
        const value = { ...result, unreadable: bad.count, tokenizer: tokenizer.name, tokenizerDir: join(opts.out, 'tokenizer'), eotToken: eot, vocabSize: tokenizer.vocabSize, seconds };
        const text = [
          `${result.documents} documents → ${result.train.tokens} train + ${result.val.tokens} val tokens (${result.dtype}) in ${result.train.files.length} + ${result.val.files.length} shard(s), ${seconds.toFixed(1)} s`,
          ...(bad.count > 0 ? [`skipped ${bad.count} unreadable record(s); first: ${bad.first}`] : []),
          `output: ${opts.out}/train_*.bin, ${opts.out}/val_*.bin, tokenizer in ${opts.out}/tokenizer/`,
        ].join('\n');
        printResult(global, value, text);
      }),
    );
}
