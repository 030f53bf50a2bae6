// Batched generation and KV-cache speed on a gpt2-124m-shaped model (random weights, f32): the decode step at
// prompt 512 with the preallocated cache against the old concat-growing cache, and tokens/s for batch 1, 4 and 8
// at prompt 128 against generating the same sequences one at a time.
import { cpus } from 'node:os';
import { DecoderLM, getPreset, KVCache, LayerKVCache } from '@lmkit/model';
import { backendInfo, concat, keep, useWasmKernels, type Tensor } from '@lmkit/tensor';
import { fromDecoderLM, generateBatchTokens, generateTokens, resolveGenerationConfig, type ModelRunner } from '../src/index.js';

const quick = process.argv.includes('--quick');
const DECODE_STEPS = quick ? 6 : 16;
const NEW_TOKENS = quick ? 6 : 16;
const BATCHES = [1, 4, 8];
/** Each figure is the best of this many runs, alternating with its anchor (the machine is shared and noisy). */
const REPEATS = quick ? 1 : 3;

/** The cache as it was before preallocation: each step concatenates (copies) all earlier positions. */
class ConcatLayerKVCache extends LayerKVCache {
  private ck: Tensor | null = null;
  private cv: Tensor | null = null;

  override get k(): Tensor | null {
    return this.ck;
  }

  override get v(): Tensor | null {
    return this.cv;
  }

  override get length(): number {
    return this.ck ? this.ck.shape[2]! : 0;
  }

  override append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const oldK = this.ck;
    const oldV = this.cv;
    this.ck = keep(oldK ? concat([oldK, k.detach()], 2) : k.detach());
    this.cv = keep(oldV ? concat([oldV, v.detach()], 2) : v.detach());
    oldK?.dispose();
    oldV?.dispose();
    return { k: this.ck, v: this.cv };
  }

  override clear(): void {
    this.ck?.dispose();
    this.cv?.dispose();
    this.ck = this.cv = null;
  }
}

function concatCache(nLayer: number): KVCache {
  const cache = new KVCache(nLayer);
  cache.layers.splice(0, nLayer, ...Array.from({ length: nLayer }, () => new ConcatLayerKVCache()));
  return cache;
}

const promptOf = (len: number, salt: number): Int32Array => Int32Array.from({ length: len }, (_, i) => (i * 7919 + salt * 104729) % 50000);

/** Mean ms of one decode step after a prompt of `len` tokens, for the given cache. */
function decodeStepMs(runner: ModelRunner, cache: KVCache, len: number): number {
  runner.nextLogits(promptOf(len, 0), cache);
  runner.nextLogits(Int32Array.of(11), cache); // warm-up step
  const t0 = performance.now();
  for (let i = 0; i < DECODE_STEPS; i++) runner.nextLogits(Int32Array.of(12 + i), cache);
  const ms = (performance.now() - t0) / DECODE_STEPS;
  cache.clear();
  return ms;
}

/**
 * Decode tokens/s of `batch` sequences generated together (the first step, with the prefill, excluded).
 * `mixed` gives prompts of different lengths (promptLen/2 … promptLen), so padding and the mask are in play.
 */
async function batchedRate(runner: ModelRunner, batch: number, promptLen: number, mixed = false): Promise<number> {
  const prompts = Array.from({ length: batch }, (_, i) => promptOf(mixed ? promptLen - Math.floor((i * promptLen) / (2 * batch)) : promptLen, i));
  const config = resolveGenerationConfig({ max_new_tokens: NEW_TOKENS, do_sample: false, eos_token_id: [] });
  let first = 0;
  let tokens = 0;
  let step = 0;
  for await (const steps of generateBatchTokens(runner, prompts, prompts.map(() => config))) {
    if (step++ === 0) first = performance.now();
    else tokens += steps.length;
  }
  return tokens / ((performance.now() - first) / 1000);
}

/** Decode tokens/s of the same sequences generated one after another (the anchor). */
async function sequentialRate(runner: ModelRunner, batch: number, promptLen: number): Promise<number> {
  const config = resolveGenerationConfig({ max_new_tokens: NEW_TOKENS, do_sample: false, eos_token_id: [] });
  let ms = 0;
  let tokens = 0;
  for (let i = 0; i < batch; i++) {
    let first = 0;
    let n = 0;
    for await (const step of generateTokens(runner, promptOf(promptLen, i), config)) {
      if (n++ === 0) first = performance.now();
      else if (step.tokenId !== undefined) tokens++;
    }
    ms += performance.now() - first;
  }
  return tokens / (ms / 1000);
}

async function main(): Promise<void> {
  useWasmKernels();
  console.log(`# @lmkit/infer batched generation benchmark — ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, backend ${JSON.stringify(backendInfo())}`);
  console.log(`gpt2-124m shape, random weights, f32; ${DECODE_STEPS} timed decode steps, ${NEW_TOKENS} new tokens per sequence${quick ? ' (--quick)' : ''}\n`);
  const model = new DecoderLM(getPreset('gpt2-124m'), { seed: 1 });
  const runner = fromDecoderLM(model);

  let anchorMs = Infinity;
  let preallocMs = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    anchorMs = Math.min(anchorMs, decodeStepMs(runner, concatCache(model.spec.nLayer), 512));
    preallocMs = Math.min(preallocMs, decodeStepMs(runner, new KVCache(model.spec.nLayer, { capacity: 1024 }), 512));
  }
  console.log('| decode step at prompt 512 | ms/token |');
  console.log('|---|---|');
  console.log(`| concat-growing cache (anchor, the old cache) | ${anchorMs.toFixed(1)} |`);
  console.log(`| preallocated cache, written in place | ${preallocMs.toFixed(1)} |`);
  console.log(`\npreallocated vs concat cache: ${(anchorMs / preallocMs).toFixed(2)}× faster per decode step\n`);

  console.log('| batch | prompt | batched tok/s | one at a time tok/s (anchor) | ratio |');
  console.log('|---|---|---|---|---|');
  for (const [batch, mixed] of [...BATCHES.map((b) => [b, false] as const), [8, true] as const]) {
    let together = 0;
    let alone = 0;
    for (let r = 0; r < REPEATS; r++) {
      together = Math.max(together, await batchedRate(runner, batch, 128, mixed));
      alone = Math.max(alone, await sequentialRate(runner, 1, 128)); // one sequence's speed does not depend on how many follow
    }
    console.log(`| ${batch} | ${mixed ? '64–128 (left-padded)' : '128'} | ${together.toFixed(2)} | ${alone.toFixed(2)} | ${(together / alone).toFixed(2)}× |`);
  }
}

await main();
