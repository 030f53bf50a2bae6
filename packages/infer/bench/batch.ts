// Batched generation and KV-cache speed on a gpt2-124m-shaped model (random weights, f32): the decode step at
// prompt 512 with the preallocated cache against the old concat-growing cache, and tokens/s for batch 1, 4 and 8
// at prompt 128 against generating the same sequences one at a time.
import { cpus } from 'node:os';
import { DecoderLM, getPreset, KVCache, LayerKVCache } from '@lmkit/model';
import { attention, backendInfo, concat, createRng, keep, noGrad, randn, scope, useWasmKernels, type Tensor } from '@lmkit/tensor';
import { fromDecoderLM, generateBatchTokens, generateTokens, resolveGenerationConfig, type ModelRunner } from '../src/index.js';

const quick = process.argv.includes('--quick');
const DECODE_STEPS = quick ? 6 : 16;
const NEW_TOKENS = quick ? 6 : 16;
const BATCHES = [1, 4, 8];
/** Decode-step figures are the best of this many runs, alternating with the anchor (the machine is shared and noisy). */
const REPEATS = quick ? 1 : 3;
/** Rounds of the batch measurements, each running every batch size once. */
const ROUNDS = quick ? 1 : 3;

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

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

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
 * What the cache change touches, without the weight GEMMs around it: per decoded token, append one
 * position to each of 12 layers' caches and attend over them with the fused op (gpt2-124m shapes: 12
 * heads of 64), from 512 cached positions on. Returns the median ms per token over `tokens` tokens.
 */
function cacheAttendMs(cache: KVCache, tokens: number): number {
  const rng = createRng(3);
  const [H, D] = [12, 64];
  noGrad(() =>
    cache.layers.forEach((layer) => scope(() => void layer.append(randn([1, H, 512, D], { rng }), randn([1, H, 512, D], { rng })))),
  );
  const q = randn([1, H, 1, D], { rng });
  const kv = randn([1, H, 1, D], { rng });
  const times: number[] = [];
  for (let t = 0; t < tokens; t++) {
    const t0 = performance.now();
    noGrad(() =>
      scope(() => {
        for (const layer of cache.layers) {
          const { k, v } = layer.append(kv, kv);
          attention(q, k, v, { causal: true });
        }
      }),
    );
    times.push(performance.now() - t0);
  }
  cache.clear();
  return median(times);
}

/** Milliseconds between successive yields of a generation loop, the first (with the prefill) left out. */
async function stepTimes(loop: AsyncIterable<unknown>): Promise<number[]> {
  const times: number[] = [];
  let last = 0;
  for await (const _ of loop) {
    const now = performance.now();
    if (last > 0) times.push(now - last);
    last = now;
  }
  return times;
}

/**
 * Decode steps of `batch` sequences generated together. `mixed` gives prompts of different lengths
 * (promptLen/2 … promptLen), so padding and the mask are in play.
 */
function batchedSteps(runner: ModelRunner, batch: number, promptLen: number, mixed: boolean): Promise<number[]> {
  const prompts = Array.from({ length: batch }, (_, i) => promptOf(mixed ? promptLen - Math.floor((i * promptLen) / (2 * batch)) : promptLen, i));
  const config = resolveGenerationConfig({ max_new_tokens: NEW_TOKENS, do_sample: false, eos_token_id: [] });
  return stepTimes(generateBatchTokens(runner, prompts, prompts.map(() => config)));
}

/** Decode steps of one sequence through the single-sequence loop (the anchor: one at a time). */
function singleSteps(runner: ModelRunner, promptLen: number): Promise<number[]> {
  const config = resolveGenerationConfig({ max_new_tokens: NEW_TOKENS, do_sample: false, eos_token_id: [] });
  return stepTimes(generateTokens(runner, promptOf(promptLen, 0), config));
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
  console.log(`\npreallocated vs concat cache: ${(anchorMs / preallocMs).toFixed(2)}× per whole decode step (the weight GEMMs dominate it)\n`);
  let before = Infinity;
  let now = Infinity;
  for (let r = 0; r < REPEATS + 2; r++) {
    before = Math.min(before, cacheAttendMs(concatCache(12), 64));
    now = Math.min(now, cacheAttendMs(new KVCache(12, { capacity: 1024 }), 64));
  }
  console.log('| cache append + fused attention per token, 12 layers, from 512 positions | ms/token |');
  console.log('|---|---|');
  console.log(`| concat-growing cache, every step gathering S positions (anchor, before) | ${before.toFixed(2)} |`);
  console.log(`| preallocated cache, strided view read in place (now) | ${now.toFixed(2)} |`);
  console.log(`\ncache + attention work per token, now vs before: ${(before / now).toFixed(2)}×\n`);

  // Rounds interleave every configuration, so load from other jobs spreads over all of them; each figure
  // uses the median step over all rounds.
  const configs = [...BATCHES.map((b) => [b, false] as const), [8, true] as const];
  const single: number[] = [];
  const batched = configs.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    single.push(...(await singleSteps(runner, 128)));
    for (const [c, [batch, mixed]] of configs.entries()) batched[c]!.push(...(await batchedSteps(runner, batch, 128, mixed)));
  }
  const alone = 1000 / median(single);
  console.log(`one sequence at a time (anchor): ${alone.toFixed(2)} tok/s (median step ${median(single).toFixed(1)} ms)\n`);
  console.log('| batch | prompt | median step ms | batched tok/s | vs one at a time |');
  console.log('|---|---|---|---|---|');
  configs.forEach(([batch, mixed], c) => {
    const step = median(batched[c]!);
    const rate = (batch * 1000) / step;
    console.log(`| ${batch} | ${mixed ? '64–128 (left-padded)' : '128'} | ${step.toFixed(1)} | ${rate.toFixed(2)} | ${(rate / alone).toFixed(2)}× |`);
  });
}

await main();
