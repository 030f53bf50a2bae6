// GPTQ calibration time on a gpt2-124m-shaped model (random weights), split by part: forward passes, H sums, factorization, column sweep.
import { cpus } from 'node:os';
import { DecoderLM, getPreset, type ModelConfig } from '@lmkit/model';
import { backendInfo, createRng } from '@lmkit/tensor';
import { gptqQuantize } from '../src/index.js';

/** `--name value` from the command line, or the default. */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const layers = arg('layers', 12);
const samples = arg('samples', 32);
const seqLen = arg('seq-len', 256);
const format = process.argv.includes('--q8_0') ? 'q8_0' : 'q4_0';

const config = { ...getPreset('gpt2-124m'), n_layer: layers } as ModelConfig;
const model = new DecoderLM(config, { seed: 1 });
const rng = createRng(2);
const vocab = model.spec.realVocabSize;
const ids = Int32Array.from({ length: 200_000 }, () => rng.int(vocab));

console.log(`gptq bench: gpt2-124m shape, ${layers} block(s), ${format}, calibration ${samples} × ${seqLen} tokens; ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), tensor ${backendInfo().mode}`);
const result = gptqQuantize(model, ids, { format, samples, seqLen, progress: 'silent' });
const t = result.timings;
const other = t.totalMs - t.forwardMs - t.hessianMs - t.factorMs - t.sweepMs;
const s = (ms: number) => `${(ms / 1000).toFixed(1).padStart(7)} s`;
console.log(`forward passes   ${s(t.forwardMs)}`);
console.log(`H = 2XXᵀ/n sums  ${s(t.hessianMs)}`);
console.log(`factor (H⁻¹)     ${s(t.factorMs)}`);
console.log(`column sweep     ${s(t.sweepMs)}`);
console.log(`other            ${s(other)}`);
console.log(`total            ${s(t.totalMs)}  (${result.layers.length} matrices)`);
for (const l of result.layers) console.log(`  ${l.name.padEnd(22)} ${l.rows}×${l.cols} loss ${l.loss.toExponential(3)}`);
