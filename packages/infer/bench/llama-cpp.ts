// lmkit against llama.cpp (node-llama-cpp's bundled CPU build) on the same gpt2-124m-shaped GGUF files: prefill
// time and KV-cached decode tokens/s for f32, q8_0 and q4_0, measured interleaved (A/B/A/B, best of N) on equal threads.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecoderLM, getPreset } from '@lmkit/model';
import { backendInfo, setCpuThreads, useWasmKernels } from '@lmkit/tensor';
import { getEncoding } from '@lmkit/tokenizer';
import {
  fromDecoderLM, generateTokens, loadGgufModel, quantKernelInfo, resolveGenerationConfig, saveGgufModel, setQuantThreads,
  type GgufWeightFormat, type ModelRunner,
} from '../src/index.js';

type NodeLlamaCpp = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<NodeLlamaCpp['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type Token = Parameters<LlamaModel['detokenize']>[0][number];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const threadsArg = argv.find((a) => a.startsWith('--threads='));
/** Thread counts to compare at, the same for both engines (lmkit's GEMM and quantized kernels, llama.cpp's context): --threads=1,2; default all cores, then 1. */
const THREAD_COUNTS = threadsArg ? threadsArg.slice('--threads='.length).split(',').map(Number) : [...new Set([availableParallelism(), 1])];
const NEW_TOKENS = quick ? 8 : 32;
const PROMPTS = quick ? [128] : [128, 512];
const REPEATS = quick ? 2 : 3;
const FORMATS: GgufWeightFormat[] = ['f32', 'q8_0', 'q4_0'];

/** One timed generation: prompt prefill to the first token, then decode tokens/s over the rest. */
interface Timing {
  prefillMs: number;
  tokPerS: number;
}

/** The same prompt for both engines: token ids spread over the vocabulary. */
function promptIds(length: number): number[] {
  return Array.from({ length }, (_, i) => (i * 7919) % 50000);
}

function best(a: Timing | undefined, b: Timing): Timing {
  return { prefillMs: Math.min(a?.prefillMs ?? Infinity, b.prefillMs), tokPerS: Math.max(a?.tokPerS ?? 0, b.tokPerS) };
}

/** lmkit: greedy generation with the KV cache, no end-of-text stop. */
async function lmkitRun(runner: ModelRunner, promptLen: number, tokens: number): Promise<Timing> {
  const config = resolveGenerationConfig({ max_new_tokens: tokens, do_sample: false, use_cache: true, eos_token_id: [] });
  const t0 = performance.now();
  let first = 0;
  let n = 0;
  for await (const step of generateTokens(runner, Int32Array.from(promptIds(promptLen)), config)) {
    if (step.tokenId === undefined) continue;
    if (n === 0) first = performance.now();
    n++;
  }
  const end = performance.now();
  return { prefillMs: first - t0, tokPerS: (n - 1) / ((end - first) / 1000) };
}

/** llama.cpp: a fresh sequence, the prompt in one batch, then greedy tokens (temperature 0, sampled natively). */
async function llamaRun(context: LlamaContext, promptLen: number, tokens: number): Promise<Timing> {
  const sequence = context.getSequence();
  try {
    const t0 = performance.now();
    let first = 0;
    let n = 0;
    for await (const _token of sequence.evaluate(promptIds(promptLen) as Token[], { temperature: 0 })) {
      if (n === 0) first = performance.now();
      if (++n === tokens) break;
    }
    const end = performance.now();
    return { prefillMs: first - t0, tokPerS: (n - 1) / ((end - first) / 1000) };
  } finally {
    sequence.dispose();
  }
}

/** node-llama-cpp with its prebuilt CPU binary, or why it cannot load here (never a source build or a download). */
async function loadLlamaCpp(maxThreads: number): Promise<{ nlc: NodeLlamaCpp; llama: Llama } | string> {
  try {
    const nlc = await import('node-llama-cpp');
    const llama = await nlc.getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: nlc.LlamaLogLevel.error, maxThreads });
    return { nlc, llama };
  } catch (error) {
    return `llama.cpp's prebuilt CPU binary (node-llama-cpp) does not load here: ${(error as Error).message}`;
  }
}

/** A table row: both engines' figures and lmkit's speed as a multiple of llama.cpp's (below 1: slower). */
function row(format: string, threads: number, prompt: number, ours: Timing, theirs: Timing | undefined): string {
  const t = theirs;
  const cells = [
    format, String(threads), String(prompt),
    ours.prefillMs.toFixed(0), t ? t.prefillMs.toFixed(0) : '–', t ? `${(t.prefillMs / ours.prefillMs).toFixed(2)}×` : '–',
    ours.tokPerS.toFixed(2), t ? t.tokPerS.toFixed(2) : '–', t ? `${(ours.tokPerS / t.tokPerS).toFixed(2)}×` : '–',
  ];
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  if (!THREAD_COUNTS.every((t) => Number.isInteger(t) && t >= 1)) throw new Error(`--threads takes positive integers separated by commas, got ${threadsArg}`);
  const maxThreads = Math.max(...THREAD_COUNTS);
  useWasmKernels({ threads: maxThreads });
  setQuantThreads(maxThreads);
  const loaded = await loadLlamaCpp(maxThreads);
  const llama = typeof loaded === 'string' ? null : loaded.llama;
  console.log(`# lmkit vs llama.cpp — ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at start`);
  console.log(`lmkit: backend ${JSON.stringify(backendInfo())}, quantized kernels ${JSON.stringify(quantKernelInfo())}`);
  if (llama) console.log(`llama.cpp: ${llama.llamaCppRelease.repo} ${llama.llamaCppRelease.release} (node-llama-cpp's ${llama.buildType} binary), ${llama.systemInfo.trim()}`);
  else console.log(`llama.cpp: SKIPPED — ${loaded as string}; lmkit-only rows follow`);
  console.log(`threads ${THREAD_COUNTS.join(' then ')}, the same for both; prompts ${PROMPTS.join(', ')}; ${NEW_TOKENS} new tokens, greedy, KV cache; best of ${REPEATS} interleaved runs (lmkit, llama.cpp, lmkit, ...); model load excluded`);

  const dir = await mkdtemp(join(tmpdir(), 'lmkit-bench-llamacpp-'));
  const rows: string[] = [
    '| format | threads | prompt | lmkit prefill ms | llama.cpp prefill ms | prefill speed lmkit/llama.cpp | lmkit decode tok/s | llama.cpp decode tok/s | decode speed lmkit/llama.cpp |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  try {
    // One model, written in each format: both engines read the same file, so the weights and shapes are identical.
    const model = new DecoderLM(getPreset('gpt2-124m'), { seed: 1 });
    const tokenizer = getEncoding('gpt2');
    for (const format of FORMATS) {
      const path = join(dir, `gpt2-124m-${format}.gguf`);
      const { bytes } = await saveGgufModel(model, path, format, tokenizer);
      const file = await loadGgufModel(path);
      const runner = fromDecoderLM(file.model, file.format ? { prequantized: file.quantized } : {});
      let lm: LlamaModel | null = null;
      if (llama) {
        try {
          lm = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
          if (format === 'f32') console.log(`llama.cpp reads it as: ${lm.typeDescription}, ${lm.embeddingVectorSize}-wide, context ${lm.trainContextSize}`);
        } catch (error) {
          console.log(`llama.cpp: cannot load ${format} (${(error as Error).message}); lmkit-only rows`);
        }
      }
      try {
        for (const threads of THREAD_COUNTS) {
          await setCpuThreads(threads);
          setQuantThreads(threads);
          let context: LlamaContext | null = null;
          try {
            // llama.cpp's default context settings (f16 KV cache, no flash attention); the prompt in one 512-token batch.
            context = lm ? await lm.createContext({ contextSize: 1024, batchSize: 512, threads: { ideal: threads, min: threads }, flashAttention: false, sequences: 1 }) : null;
          } catch (error) {
            console.log(`llama.cpp: no context for ${format} on ${threads} threads (${(error as Error).message}); lmkit-only rows`);
          }
          try {
            // Warm-up: packs lmkit's quantized weights and starts its workers; pages llama.cpp's weights in.
            await lmkitRun(runner, 16, 2);
            if (context) await llamaRun(context, 16, 2);
            for (const prompt of PROMPTS) {
              let ours: Timing | undefined;
              let theirs: Timing | undefined;
              for (let rep = 0; rep < REPEATS; rep++) {
                ours = best(ours, await lmkitRun(runner, prompt, NEW_TOKENS));
                if (context) theirs = best(theirs, await llamaRun(context, prompt, NEW_TOKENS));
              }
              rows.push(row(`${format} (${(bytes / 1e6).toFixed(0)} MB)`, threads, prompt, ours!, theirs));
              console.log(rows.at(-1));
            }
          } finally {
            await context?.dispose();
          }
        }
      } finally {
        await lm?.dispose();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await llama?.dispose();
  }
  console.log(`\n${rows.join('\n')}\n\nload average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end`);
}

await main();
