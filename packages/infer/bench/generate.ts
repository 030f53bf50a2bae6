// Generation speed of a gpt2-124m-shaped model (random weights): f32, q8_0 and q4_0, with and without the
// KV cache, at prompt lengths 128 and 512; share of the memory-bandwidth limit reached.
import { cpus } from 'node:os';
import { DecoderLM, getPreset } from '@lmkit/model';
import { backendInfo, useWasmKernels } from '@lmkit/tensor';
import { fromDecoderLM, generateTokens, resolveGenerationConfig, quantizedBytes, quantKernelInfo, type QuantFormat } from '../src/index.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const NEW_TOKENS = quick ? 8 : 32;
const NO_CACHE_TOKENS = quick ? 2 : 4;
const PROMPTS = quick ? [128] : [128, 512];

/** Memory bandwidth by copying a 256 MiB buffer: the ceiling for reading weights once per token. */
function memcpyGBs(): number {
  const n = (256 << 20) / 4;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    b.set(a);
    const s = (performance.now() - t) / 1000;
    best = Math.max(best, (2 * n * 4) / s / 1e9); // read + write
  }
  return best;
}

/** Bytes of weights read per generated token (every matrix once; embeddings read as the tied head). */
function weightBytes(model: DecoderLM, format: QuantFormat | 'f32'): number {
  let bytes = 0;
  for (const [name, p] of model.namedParameters()) {
    if (name === 'pos.weight') continue;
    if (p.shape.length === 2) bytes += format === 'f32' ? p.size * 4 : quantizedBytes(format, p.shape[0], p.shape[1]);
    else bytes += p.size * 4;
  }
  return bytes;
}

async function decodeRate(model: DecoderLM, format: QuantFormat | 'f32', promptLen: number, useCache: boolean, tokens: number) {
  const runner = fromDecoderLM(model, format === 'f32' ? {} : { quantization: format });
  const prompt = Int32Array.from({ length: promptLen }, (_, i) => (i * 7919) % 50000);
  const config = resolveGenerationConfig({ max_new_tokens: tokens, do_sample: false, use_cache: useCache, eos_token_id: [] });
  const t0 = performance.now();
  let first = 0;
  let n = 0;
  for await (const step of generateTokens(runner, prompt, config)) {
    if (n === 0) first = performance.now();
    if (step.tokenId !== undefined) n++;
  }
  const end = performance.now();
  // NOTE: the first token includes the prompt's prefill; decode speed is measured over the rest.
  return { prefillMs: first - t0, tokPerS: n > 1 ? (n - 1) / ((end - first) / 1000) : NaN };
}

async function main(): Promise<void> {
  useWasmKernels();
  const bandwidth = memcpyGBs();
  console.log(`# @lmkit/infer generation benchmark — ${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, backend ${JSON.stringify(backendInfo())}, quantized kernels ${quantKernelInfo().mode}`);
  console.log(`memcpy bandwidth: ${bandwidth.toFixed(1)} GB/s (read+write); new tokens per run: ${NEW_TOKENS} with cache, ${NO_CACHE_TOKENS} without`);
  const rows: string[] = ['| format | prompt | cache | prefill ms | decode tok/s | weights MB | GB/s of weights | share of memcpy |', '|---|---|---|---|---|---|---|---|'];
  const results = new Map<string, number>();
  for (const format of ['f32', 'q8_0', 'q4_0'] as const) {
    // NOTE: a fresh model per format: quantizing replaces the Linear layers' forward of the model it wraps.
    const model = new DecoderLM(getPreset('gpt2-124m'), { seed: 1 });
    const wb = weightBytes(model, format);
    for (const prompt of PROMPTS) {
      for (const cache of [true, false]) {
        const r = await decodeRate(model, format, prompt, cache, cache ? NEW_TOKENS : NO_CACHE_TOKENS);
        results.set(`${format}/${prompt}/${cache}`, r.tokPerS);
        const gbs = (wb * r.tokPerS) / 1e9;
        rows.push(`| ${format} | ${prompt} | ${cache ? 'yes' : 'no'} | ${r.prefillMs.toFixed(0)} | ${r.tokPerS.toFixed(2)} | ${(wb / 1e6).toFixed(0)} | ${gbs.toFixed(2)} | ${((gbs / bandwidth) * 100).toFixed(1)}% |`);
        console.log(rows.at(-1));
      }
    }
  }
  console.log('\n' + rows.join('\n'));
  const p = PROMPTS.at(-1)!;
  const cacheRatio = results.get(`f32/${p}/true`)! / results.get(`f32/${p}/false`)!;
  const q8Ratio = results.get(`q8_0/${p}/true`)! / results.get(`f32/${p}/true`)!;
  const q4Ratio = results.get(`q4_0/${p}/true`)! / results.get(`f32/${p}/true`)!;
  console.log(`\nKV cache vs no cache at prompt ${p} (f32): ${cacheRatio.toFixed(1)}× (target ≥ 5×)`);
  console.log(`q8_0 vs f32 decode tok/s at prompt ${p}: ${q8Ratio.toFixed(2)}× (target ≥ 1.8×); q4_0 vs f32: ${q4Ratio.toFixed(2)}×`);
}

await main();
