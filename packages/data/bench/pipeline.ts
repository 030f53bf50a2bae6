// Pipeline benchmark: MB/s per worker for the default clean pipeline and for MinHash dedup, 2-worker speed-up, and peak memory vs input size.
// Run: pnpm bench [-- --mb 20 --dedup-mb 200 --memory 100,1000 [--memory-clean]]. Anchors, measured in the same run: the reader alone (read + parse + write,
// the floor any pipeline pays); and the targets (≥ 2 MB/s per worker, ≥ 1.7× with 2 workers; datatrove MinHash ≈ 0.8 MB/s per task).
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineConfig, StepSpec } from '../src/index.js';
import { writeCorpus } from './corpus.js';

// NOTE: the built package, so local workers start as plain node processes (no TypeScript loader per worker).
const { DEFAULT_CLEAN_DEDUP, DEFAULT_CLEAN_STEPS, runPipeline }: typeof import('../src/index.js') = await import('../dist/index.js' as string);

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const speedMb = Number(flag('mb', '20'));
// MinHash is ~4× faster than the whole clean pipeline, so it can use a larger corpus for the same time.
const dedupMb = Number(flag('dedup-mb', String(speedMb)));
const memorySizes = flag('memory', '100').split(',').filter(Boolean).map(Number);
// NOTE: the memory runs use the de-duplication stages by default (the only ones whose state could grow with the corpus;
// filters are per document) so that 1 GB fits in minutes here; --memory-clean runs the whole default pipeline instead.
const memoryClean = args.includes('--memory-clean');
const root = join(tmpdir(), `lmkit-bench-${process.pid}`);
mkdirSync(root, { recursive: true });

interface Row {
  name: string;
  workers: number;
  mb: number;
  seconds: number;
  perWorker: number;
  kept: number;
  peakMb: number;
  /** MB per CPU-second of one worker: what a worker does when it has a core to itself. */
  perCpu: number;
}

async function measure(name: string, input: string, steps: readonly StepSpec[], dedup: readonly StepSpec[], workers: number): Promise<Row> {
  const outDir = join(root, `out-${name}-${workers}-${Date.now()}`);
  const config: PipelineConfig = { inputs: [input], outDir, steps: [...steps], dedup: [...dedup] };
  const t0 = performance.now();
  const { stats } = await runPipeline(config, { workers, progress: 'silent' });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(outDir, { recursive: true, force: true });
  const mb = statSync(input).size / 1e6;
  const row = { name, workers, mb, seconds, perWorker: mb / seconds / workers, kept: stats.outputDocuments, peakMb: (stats.peakRssBytes ?? 0) / 2 ** 20, perCpu: mb / (stats.cpuSeconds ?? NaN) };
  const slow = [...stats.steps].sort((a, b) => b.seconds - a.seconds).slice(0, 4).map((st) => `${st.name} ${st.seconds.toFixed(1)}s`).join(', ');
  console.log(
    `${name.padEnd(14)} workers ${workers}  ${mb.toFixed(0).padStart(5)} MB  ${seconds.toFixed(1).padStart(7)} s wall  ${row.perWorker.toFixed(2).padStart(6)} MB/s per worker  ${row.perCpu.toFixed(2).padStart(6)} MB per CPU-s  peak RSS ${row.peakMb.toFixed(0)} MiB/worker  kept ${row.kept}  [${slow}]`,
  );
  return row;
}

try {
  console.log(`@lmkit/data pipeline benchmark — Node ${process.version}, shared 2-core machine; corpus = SOTU sentences + SpamAssassin emails with 10 % planted duplicates`);
  const input = join(root, `corpus-${speedMb}.jsonl`);
  const docs = await writeCorpus(input, speedMb);
  console.log(`corpus: ${speedMb} MB, ${docs} documents\n`);

  const reader = await measure('reader only', input, [], [], 1);
  const clean1 = await measure('default clean', input, DEFAULT_CLEAN_STEPS, DEFAULT_CLEAN_DEDUP, 1);
  const clean2 = await measure('default clean', input, DEFAULT_CLEAN_STEPS, DEFAULT_CLEAN_DEDUP, 2);
  const dedupInput = dedupMb === speedMb ? input : join(root, `corpus-${dedupMb}.jsonl`);
  if (dedupInput !== input) await writeCorpus(dedupInput, dedupMb, 3);
  const minhash1 = await measure('minhash dedup', dedupInput, [], [{ type: 'minhash' }], 1);
  const minhash2 = await measure('minhash dedup', dedupInput, [], [{ type: 'minhash' }], 2);

  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(`\nsummary (load average ${load.toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores: wall-clock speed-ups need idle cores; MB per CPU-second does not)`);
  console.log(`  default clean: ${clean1.perWorker.toFixed(2)} MB/s per worker (target 2: ${ratio(clean1.perWorker, 2)}; reader alone ${reader.perWorker.toFixed(1)} MB/s: ${ratio(clean1.perWorker, reader.perWorker)}); 2 workers ${ratio(clean1.seconds, clean2.seconds)} faster by wall clock (target 1.7×), per-worker CPU efficiency with 2 workers ${ratio(clean2.perCpu, clean1.perCpu)} of 1`);
  console.log(`  minhash dedup: ${minhash1.perWorker.toFixed(2)} MB/s per worker (target 2: ${ratio(minhash1.perWorker, 2)}; datatrove ≈ 0.8: ${ratio(minhash1.perWorker, 0.8)}); 2 workers ${ratio(minhash1.seconds, minhash2.seconds)} faster by wall clock (target 1.7×), per-worker CPU efficiency with 2 workers ${ratio(minhash2.perCpu, minhash1.perCpu)} of 1`);

  if (memorySizes.length > 0) {
    console.log(`\npeak memory vs input size (${memoryClean ? 'default clean' : 'exact + minhash dedup'}, 2 workers)`);
    for (const mb of memorySizes) {
      const big = join(root, `corpus-${mb}.jsonl`);
      await writeCorpus(big, mb, 7);
      if (memoryClean) await measure(`clean ${mb} MB`, big, DEFAULT_CLEAN_STEPS, DEFAULT_CLEAN_DEDUP, 2);
      else await measure(`dedup ${mb} MB`, big, [], DEFAULT_CLEAN_DEDUP, 2);
      rmSync(big, { force: true });
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
