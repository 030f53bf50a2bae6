// `lmkit generate | chat | eval | serve`: run a trained model (the `quantize` command lives in quantize.ts).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { openTokenShard } from '@lmkit/data';
import { evaluate, generate, openModelDir, plainChatTemplate, serve, type ChatMessage, type GenerationConfig, type OpenedModel } from '@lmkit/infer';
import { action, collect, parseNumber, parsePositiveInt, printResult, UsageError, type GlobalOptions } from '../io.js';

/** Flags shared by the commands that open a model. */
interface ModelFlags {
  model: string;
  tokenizer?: string;
  encoding?: string;
  quantize?: string;
}

/** Sampling flags with HF-style names. */
interface SamplingFlags {
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
  stop?: string[];
  greedy?: boolean;
  cache?: boolean;
}

function addModelFlags(command: Command): Command {
  return command
    .requiredOption('--model <dir>', 'model directory (config.json + model.safetensors), e.g. OUT/checkpoint from `lmkit train`')
    .option('--tokenizer <path>', 'tokenizer directory or file (default: the one saved with the model)')
    .option('--encoding <name>', 'an OpenAI encoding instead of a saved tokenizer')
    .option('--quantize <format>', 'quantize linear layers on load: q8_0 or q4_0');
}

function addSamplingFlags(command: Command): Command {
  return command
    .option('--max-new-tokens <n>', 'tokens to generate at most (default 128)', parsePositiveInt('--max-new-tokens'))
    .option('--temperature <x>', 'sampling temperature > 0 (default 1.0 when sampling)', parseNumber('--temperature'))
    .option('--top-k <k>', 'keep the k most likely tokens (0 = off)', parseNumber('--top-k'))
    .option('--top-p <p>', 'nucleus sampling mass in (0, 1]', parseNumber('--top-p'))
    .option('--min-p <p>', 'drop tokens below p × the top probability', parseNumber('--min-p'))
    .option('--repetition-penalty <x>', 'penalty > 1 discourages repeats (default 1.0)', parseNumber('--repetition-penalty'))
    .option('--seed <s>', 'seed for reproducible sampling', parseNumber('--seed'))
    .option('--stop <text>', 'stop when this text is generated (repeatable)', collect)
    .option('--greedy', 'take the most likely token each step (no sampling)')
    .option('--no-cache', 'recompute every position each step (slow; for checking the KV cache)');
}

function generationConfig(flags: SamplingFlags): GenerationConfig {
  return {
    ...(flags.maxNewTokens === undefined ? {} : { max_new_tokens: flags.maxNewTokens }),
    ...(flags.greedy ? { do_sample: false } : { do_sample: true }),
    ...(flags.temperature === undefined ? {} : { temperature: flags.temperature }),
    ...(flags.topK === undefined ? {} : { top_k: flags.topK }),
    ...(flags.topP === undefined ? {} : { top_p: flags.topP }),
    ...(flags.minP === undefined ? {} : { min_p: flags.minP }),
    ...(flags.repetitionPenalty === undefined ? {} : { repetition_penalty: flags.repetitionPenalty }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.stop === undefined ? {} : { stop: flags.stop }),
    ...(flags.cache === false ? { use_cache: false } : {}),
  };
}

async function open(flags: ModelFlags): Promise<OpenedModel> {
  if (flags.quantize !== undefined && flags.quantize !== 'q8_0' && flags.quantize !== 'q4_0') throw new UsageError(`--quantize must be q8_0 or q4_0, got "${flags.quantize}"`);
  return openModelDir(flags.model, {
    ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }),
    ...(flags.encoding === undefined ? {} : { encoding: flags.encoding }),
    ...(flags.quantize === undefined ? {} : { quantization: flags.quantize as 'q8_0' | 'q4_0' }),
  });
}

/**
 * The `.bin` token shards in `dir` whose names start with `prefix` (e.g. 'val', 'train'), or every
 * `.bin` when none does; `flag` and `readHint` name the option in errors.
 */
export async function tokenShardsIn(dir: string, prefix: string, flag: string, readHint: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.bin')).sort();
  } catch {
    throw new UsageError(`${flag} ${dir}: cannot read the directory`, readHint);
  }
  const preferred = names.filter((n) => n.startsWith(prefix));
  const chosen = preferred.length > 0 ? preferred : names;
  if (chosen.length === 0) throw new UsageError(`${flag} ${dir}: no .bin token shards there`, 'run `lmkit data pretokenize ... --out DIR` first');
  return chosen.map((n) => join(dir, n));
}

/** The token shards to evaluate on: `val_*.bin` in DIR if any, else every `*.bin`. */
export function heldOutShards(dir: string): Promise<string[]> {
  return tokenShardsIn(dir, 'val', '--data', 'give the output directory of `lmkit data pretokenize`');
}

/** Reads up to `maxTokens` tokens from shards, in order. */
export async function readShardTokens(paths: string[], maxTokens = Infinity): Promise<Uint32Array> {
  const parts: Uint32Array[] = [];
  let total = 0;
  for (const path of paths) {
    if (total >= maxTokens) break;
    const shard = await openTokenShard(path);
    try {
      const tokens = await shard.read(0, Math.min(shard.numTokens, maxTokens - total));
      parts.push(Uint32Array.from(tokens));
      total += tokens.length;
    } finally {
      await shard.close();
    }
  }
  const out = new Uint32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Perplexity and bits per byte of an opened model on held-out shards. */
export async function evalOnShards(opened: OpenedModel, dataDir: string, maxTokens: number | undefined, json: boolean) {
  const tokens = await readShardTokens(await heldOutShards(dataDir), maxTokens === undefined ? Infinity : maxTokens + 1);
  const tok = opened.tokenizer.tokenizer;
  const byteCache = new Map<number, number>();
  const tokenBytes = (id: number): number => {
    let n = byteCache.get(id);
    if (n === undefined) byteCache.set(id, (n = tok.decodeBytes([id]).length));
    return n;
  };
  return evaluate(opened.runner, tokens, { tokenBytes, progress: json ? 'json' : 'auto', ...(maxTokens === undefined ? {} : { maxTokens }) });
}

/** Registers generate, chat, eval and serve. */
export function registerInferCommands(program: Command): void {
  addSamplingFlags(addModelFlags(program.command('generate').description('generate text from a prompt, streamed to stdout')))
    .requiredOption('--prompt <text>', 'the prompt')
    .action(
      action(async (flags: ModelFlags & SamplingFlags & { prompt: string }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const opened = await open(flags);
        const start = performance.now();
        let text = '';
        let finish = 'length';
        let tokens = 0;
        for await (const chunk of generate(opened.runner, opened.tokenizer, flags.prompt, generationConfig(flags))) {
          if (!global.json) process.stdout.write(chunk.text);
          text += chunk.text;
          if (chunk.tokenId !== undefined) tokens++;
          if (chunk.finishReason) finish = chunk.finishReason;
        }
        const seconds = (performance.now() - start) / 1000;
        if (global.json) printResult(global, { text, finish_reason: finish, completion_tokens: tokens, seconds: +seconds.toFixed(3), tokens_per_second: +(tokens / seconds).toFixed(2) });
        else process.stdout.write('\n');
      }),
    );

  addSamplingFlags(addModelFlags(program.command('chat').description('chat with a model in the terminal (empty line or Ctrl-D ends)')))
    .option('--system <text>', 'a system message to start the conversation')
    .action(
      action(async (flags: ModelFlags & SamplingFlags & { system?: string }) => {
        const opened = await open(flags);
        const messages: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
        const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
        const config = generationConfig(flags);
        if (process.stdin.isTTY) process.stdout.write(`chatting with ${opened.id} — an empty line or Ctrl-D ends\n`);
        const ask = (): Promise<string | null> =>
          new Promise((resolve) => {
            if (process.stdin.isTTY) rl.setPrompt('you> '), rl.prompt();
            const onLine = (line: string) => (rl.off('close', onClose), resolve(line));
            const onClose = () => (rl.off('line', onLine), resolve(null));
            rl.once('line', onLine);
            rl.once('close', onClose);
          });
        for (;;) {
          const line = await ask();
          if (line === null || line.trim() === '') break;
          messages.push({ role: 'user', content: line });
          process.stdout.write(process.stdin.isTTY ? 'model> ' : '');
          let reply = '';
          for await (const chunk of generate(opened.runner, opened.tokenizer, plainChatTemplate.render(messages), { ...config, stop: [...plainChatTemplate.stop, ...(config.stop ?? [])] })) {
            process.stdout.write(chunk.text);
            reply += chunk.text;
          }
          process.stdout.write('\n');
          messages.push({ role: 'assistant', content: reply.trim() });
        }
        rl.close();
      }),
    );

  addModelFlags(program.command('eval').description('perplexity and bits per byte on held-out token shards'))
    .requiredOption('--data <dir>', 'directory of .bin token shards (val_*.bin are used when present)')
    .option('--max-tokens <n>', 'score at most this many tokens', parsePositiveInt('--max-tokens'))
    .action(
      action(async (flags: ModelFlags & { data: string; maxTokens?: number }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const opened = await open(flags);
        const r = await evalOnShards(opened, flags.data, flags.maxTokens, Boolean(global.json));
        printResult(global, { model: opened.id, ...r }, `${opened.id}: ${r.tokens} tokens, loss ${r.loss.toFixed(4)} nats, perplexity ${r.perplexity.toFixed(3)}, ${r.bitsPerByte.toFixed(4)} bits per byte`);
      }),
    );

  addModelFlags(program.command('serve').description('OpenAI-compatible HTTP API (/v1/...) and a chat page at /'))
    .option('--port <p>', 'TCP port (default 8080)', parseNumber('--port'))
    .option('--host <h>', 'interface to listen on (default 127.0.0.1; 0.0.0.0 for all)')
    .option('--max-tokens <n>', 'largest max_tokens a request may ask (default 1024)', parsePositiveInt('--max-tokens'))
    .option('--concurrency <n>', 'requests generating at once (default 1)', parsePositiveInt('--concurrency'))
    .option('--batch-size <n>', 'requests decoded together, one forward per step; new requests join a running batch (default 1)', parsePositiveInt('--batch-size'))
    .action(
      action(async (flags: ModelFlags & { port?: number; host?: string; maxTokens?: number; concurrency?: number; batchSize?: number }, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const opened = await open(flags);
        const server = await serve({
          models: [{ id: opened.id, model: opened.runner, tokenizer: opened.tokenizer }],
          port: flags.port ?? 8080,
          host: flags.host ?? '127.0.0.1',
          ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
          ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
          ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
        });
        printResult(global, { event: 'listening', url: server.url, model: opened.id }, `serving ${opened.id} at ${server.url} (chat page at /, API at /v1) — Ctrl-C stops`);
        await new Promise<void>((resolve) => {
          const stop = () => void server.close().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      }),
    );
}
