// `lmkit train`: pre-train a transformer LM on token shards with @lmkit/train (config file + flags, Ctrl-C checkpoints).
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { LmkitError } from '@lmkit/core';
import { backendInfo, useWasmKernels } from '@lmkit/tensor';
import { runTraining, validateRunConfig, type RunConfig } from '@lmkit/train';
import { action, parseNumber, parsePositiveInt, printResult, stopOnSigint, UsageError, type GlobalOptions } from '../io.js';
import { trainParallel, wantsParallel } from './train-parallel.js';

/** Flags of `lmkit train` (commander's camelCase names). */
interface TrainFlags {
  data: string;
  out: string;
  preset?: string;
  config?: string;
  objective?: string;
  steps?: number;
  batchSize?: number;
  seqLen?: number;
  gradAccum?: number;
  lr?: number;
  warmup?: number;
  schedule?: string;
  precision?: string;
  evalEvery?: number;
  checkpointEvery?: number;
  seed?: number;
  minutes?: number;
  resume?: boolean;
  gradientCheckpointing?: boolean;
  threads?: number;
  parallel?: string;
  zero?: number;
  backend?: string;
}

function parseNonNegativeInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

/** Reads a run config file (JSON, or YAML by extension), naming the file on any error. */
export async function readRunConfigFile(path: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LmkitError('CLI_INPUT_NOT_FOUND', `${path}: cannot read the config (${(error as NodeJS.ErrnoException).code ?? error})`, { hint: 'check the --config path', cause: error });
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${(error as Error).message})`, 'fix the syntax; configs are JSON or YAML');
  }
  return validateRunConfig(raw, path);
}

/** The run config from --config (if any) with the flags laid over it. */
export async function runConfigFrom(flags: TrainFlags): Promise<RunConfig> {
  const file = flags.config ? await readRunConfigFile(flags.config) : {};
  if (flags.preset !== undefined && file.model !== undefined) {
    throw new UsageError(`--preset ${flags.preset} conflicts with the "model" config in ${flags.config}`, 'give the model either as a preset or in the config file');
  }
  const overrides: Record<string, unknown> = {
    preset: flags.preset, objective: flags.objective, steps: flags.steps, batch_size: flags.batchSize, seq_len: flags.seqLen,
    grad_accum_steps: flags.gradAccum, lr: flags.lr, warmup_steps: flags.warmup, schedule: flags.schedule, precision: flags.precision,
    eval_every: flags.evalEvery, checkpoint_every: flags.checkpointEvery, seed: flags.seed,
    gradient_checkpointing: flags.gradientCheckpointing,
  };
  const merged = { ...file, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  return validateRunConfig(merged, flags.config ? `${flags.config} + flags` : 'flags');
}

/** Registers `lmkit train` on the program. */
export function registerTrainCommands(program: Command): void {
  program
    .command('train')
    .description('pre-train a transformer LM on .bin token shards; writes OUT/checkpoint/ (safetensors + config.json + optimizer state), OUT/metrics.jsonl, OUT/report.html')
    .requiredOption('--data <dir>', 'directory of .bin token shards (from `lmkit data pretokenize`)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--preset <name>', 'model preset: tiny, gpt2-124m, llama-like (default tiny)')
    .option('--config <file>', 'run config (JSON or YAML): preset or model, objective, steps, batch_size, seq_len, lr, ...; flags override it')
    .option('--objective <name>', 'clm (causal LM), mlm (BERT masked LM) or span (T5 span corruption)')
    .option('--steps <n>', 'optimizer steps (default 1000)', parsePositiveInt('--steps'))
    .option('--batch-size <n>', 'sequences per micro-batch (default 8)', parsePositiveInt('--batch-size'))
    .option('--seq-len <n>', 'tokens per sequence (default min(128, context))', parsePositiveInt('--seq-len'))
    .option('--grad-accum <n>', 'micro-batches per optimizer step (default 1)', parsePositiveInt('--grad-accum'))
    .option('--lr <x>', 'peak learning rate (default 1e-3)', parseNumber('--lr'))
    .option('--warmup <n>', 'warmup steps (default min(100, steps/10))', parseNonNegativeInt('--warmup'))
    .option('--schedule <kind>', 'cosine, linear, constant or wsd (default cosine)')
    .option('--precision <p>', 'fp32, bf16 or fp16 (default fp32)')
    .option('--eval-every <n>', 'validate every N steps (default steps/10)', parseNonNegativeInt('--eval-every'))
    .option('--checkpoint-every <n>', 'checkpoint every N steps (default: at the end and on Ctrl-C)', parseNonNegativeInt('--checkpoint-every'))
    .option('--seed <n>', 'seed (default 1337)', parseNonNegativeInt('--seed'))
    .option('--minutes <m>', 'stop after about M minutes (the LR schedule is fitted to the steps that fit)', parseNumber('--minutes'))
    .option('--threads <n>', 'CPU threads for the WASM SIMD kernels (default: all cores)', parsePositiveInt('--threads'))
    .option('--gradient-checkpointing', 'recompute each block in the backward pass (less memory, ~1 extra forward)')
    .option('--resume', 'continue from OUT/checkpoint with the same settings (a larger --steps extends the run)')
    .option('--parallel <spec>', 'split training over ranks: dp=2,pp=1,tp=1 (also zero=, schedule=gpipe|1f1b, mb=, stages=3+1|balanced); clm only; with --precision, --resume, --minutes')
    .option('--zero <stage>', 'ZeRO stage over the data-parallel group: 0 (DDP), 1, 2 (also with pp/tp) or 3 (dp only)', parseNonNegativeInt('--zero'))
    .option('--backend <name>', 'threads (worker threads in this process, default) or tcp (one process per rank: use `lmkit launch`)')
    .action(
      action(async (flags: TrainFlags, command: Command) => {
        const global = command.optsWithGlobals() as GlobalOptions;
        const config = await runConfigFrom(flags);
        if (flags.minutes !== undefined && !(flags.minutes > 0)) throw new UsageError(`--minutes must be positive, got ${flags.minutes}`);
        if (wantsParallel(flags)) {
          const r = await trainParallel({ flags, run: config, dataDir: flags.data, outDir: flags.out, resume: Boolean(flags.resume), source: flags.config ?? 'flags' });
          const split = `dp=${r.spec.dp} pp=${r.spec.pp} tp=${r.spec.tp} zero=${r.spec.zero}`;
          printResult(global, r, `rank ${r.rank}/${r.worldSize} (${split}, ${r.backend}): ${r.steps} steps, loss ${r.loss.toFixed(4)}, ${Math.round(r.tokensPerSecond)} tokens/s, ${(r.memoryBytes / 1e6).toFixed(2)} MB of params+grads+optimizer state on this rank, ${(r.bytesPerStep / 1e6).toFixed(2)} MB sent per step${r.wroteCheckpoint ? `\ncheckpoint: ${join(flags.out, 'checkpoint')}/  metrics: ${join(flags.out, 'metrics.jsonl')}  report: ${join(flags.out, 'report.html')}` : ''}`);
          return;
        }
        // NOTE: the WASM SIMD kernels are opt-in in @lmkit/tensor; if they cannot start, backendInfo() says 'js' and why.
        useWasmKernels(flags.threads === undefined ? {} : { threads: flags.threads });
        const sigint = stopOnSigint('stopping after this step and writing a checkpoint');
        let result;
        try {
          result = await runTraining({
            dataDir: flags.data,
            outDir: flags.out,
            config,
            source: flags.config ?? 'flags',
            resume: Boolean(flags.resume),
            signal: sigint.signal,
            progress: global.json ? 'json' : 'auto',
            ...(flags.minutes ? { timeBudgetSeconds: flags.minutes * 60 } : {}),
          });
        } finally {
          sigint.dispose();
        }
        const rel = relative(process.cwd(), flags.out) || '.';
        const value = {
          steps: result.steps, loss: result.loss, valLoss: Number.isFinite(result.valLoss) ? result.valLoss : null, tokens: result.tokens,
          seconds: +result.elapsedSeconds.toFixed(2), interrupted: result.interrupted, params: result.params, model: result.modelConfig,
          backend: backendInfo(),
          checkpoint: join(flags.out, 'checkpoint'), metrics: join(flags.out, 'metrics.jsonl'), report: join(flags.out, 'report.html'),
        };
        const lines = [
          `${result.interrupted ? 'interrupted at' : 'trained'} step ${result.steps}: loss ${result.loss.toFixed(4)}${Number.isFinite(result.valLoss) ? `, val loss ${result.valLoss.toFixed(4)}` : ''}; ${result.tokens} tokens in ${result.elapsedSeconds.toFixed(1)} s (${result.params} params; cpu ${backendInfo().mode}, ${backendInfo().threads ?? 1} thread(s))`,
          `checkpoint: ${rel}/checkpoint/  metrics: ${rel}/metrics.jsonl  report: ${rel}/report.html`,
          ...(result.interrupted ? [`resume with: lmkit train --data ${flags.data} --out ${flags.out} --resume${flags.config ? ` --config ${flags.config}` : ''}`] : []),
        ];
        printResult(global, value, lines.join('\n'));
        if (result.interrupted) process.exitCode = 130;
      }),
    );
}
