// Benchmark: the reference config (vocab 256, d 128, 4 layers, 4 heads, T 128, B 8) under dp=2, ZeRO 1/2/3, pp=2, tp=2 and 2D/3D mixes (ZeRO-1 over dp × pp) in worker threads, against one worker on the same two cores.
import { join } from 'node:path';
import { countParams, getPreset, resolveConfig } from '@lmkit/model';
import { measuredBubble, pipelineSchedule, simulateSchedule, stageOpCosts, type PipeOp } from '../src/parallel/pipeline-schedule.js';
import { spawnThreads } from '../src/parallel/comm/threads.js';
import { parseParallelSpec, worldSizeOf } from '../src/parallel/parallel-spec.js';
import { stageRanges } from '../src/parallel/pipeline.js';
import type { MemoryReport } from '../src/parallel/strategy.js';
import { bundleForTest } from '../test/bundle.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 4);
const B = 8;
const T = 128;

interface RankOut {
  rank: number;
  times: number[];
  bytes: number;
  memory: MemoryReport;
  wasm: boolean;
  timeline: { start: number; end: number; op: PipeOp }[] | null;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// NOTE: run from packages/train (as `pnpm bench:parallel` does); the worker is bundled from source into
// node_modules/.cache so its npm imports resolve from this package and no other build's clean step removes it.
const pkgDir = process.cwd();
const outDir = join(pkgDir, 'node_modules', '.cache', 'lmkit-bench-parallel');
const workerFile = await bundleForTest(join(pkgDir, 'bench', 'parallel-worker.ts'), join(outDir, 'parallel-worker.mjs'), join(pkgDir, '..'));

async function run(spec: string, ranks: number, kernelThreads: number, vocabParallel?: boolean): Promise<{ tokensPerS: number; out: RankOut[] }> {
  const out = await spawnThreads<RankOut>(workerFile, ranks, { data: { spec, steps: STEPS, kernelThreads, batchSize: B, seqLen: T, vocabParallel } });
  const stepMs = median(out[0].times);
  return { tokensPerS: (B * T) / (stepMs / 1000), out };
}

const psi = countParams(resolveConfig(getPreset('tiny')).spec);
const kib = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
console.log(`parallel training bench — reference config, Ψ = ${psi} parameters, batch ${B} × ${T} tokens per step, ${STEPS} timed steps (median)`);
console.log('measured on the shared 2-core machine: timings are noisy; each strategy runs dp·pp·tp ranks (2, or 4 and 8 for 3D) as worker threads with 1 GEMM thread each');
const anchor = await run('dp=1', 1, 2);
console.log(`anchor: 1 worker, 2 GEMM threads: ${anchor.tokensPerS.toFixed(0)} tokens/s, holds ${kib(anchor.out[0].memory.total)} (16Ψ = ${kib(16 * psi)})`);
const single1 = await run('dp=1', 1, 1);
console.log(`        1 worker, 1 GEMM thread:  ${single1.tokensPerS.toFixed(0)} tokens/s`);
const allRows: [string, string, (n: number) => number, string, boolean?][] = [
  ['dp=2', 'DDP', (n) => 16 * psi + 0 * n, '2(N−1)/N·Ψ·4'],
  ['dp=2,zero=1', 'ZeRO-1', (n) => 8 * psi + (8 * psi) / n, '2(N−1)/N·Ψ·4'],
  ['dp=2,zero=2', 'ZeRO-2', (n) => 4 * psi + (12 * psi) / n, '2(N−1)/N·Ψ·4'],
  ['dp=2,zero=3', 'ZeRO-3', (n) => (16 * psi) / n, '3(N−1)/N·Ψ·4'],
  ['pp=2,mb=4,schedule=1f1b', 'pp=2 1F1B m=4', () => NaN, ''],
  ['pp=2,mb=4,schedule=gpipe', 'pp=2 GPipe m=4', () => NaN, ''],
  ['pp=2,mb=4,schedule=1f1b,stages=balanced', 'pp=2 1F1B bal.', () => NaN, ''],
  ['pp=2,mb=4,schedule=1f1b,stages=3+1', 'pp=2 1F1B 3+1', () => NaN, ''],
  ['tp=2', 'tp=2 vocab-par.', () => NaN, ''],
  ['tp=2', 'tp=2 repl. vocab', () => NaN, '', false],
  ['dp=2,pp=2,mb=4', 'dp2×pp2', () => NaN, ''],
  ['dp=2,pp=2,mb=4,zero=1', 'dp2×pp2 ZeRO-1', () => NaN, ''],
  ['pp=2,tp=2,mb=4', 'pp2×tp2 1F1B', () => NaN, ''],
  ['dp=2,pp=2,tp=2,mb=4', 'dp2×pp2×tp2', () => NaN, ''],
];
// BENCH_ONLY=gpipe runs only the rows whose spec contains that text (after the anchors).
const only = process.env.BENCH_ONLY;
const rows = only ? allRows.filter(([spec]) => spec.includes(only)) : allRows;
console.log('');
console.log('strategy        tokens/s  ×anchor  held/rank (measured | formula)   sent/rank/step (measured | formula)');
const bubbles: string[] = [];
const held: Record<string, number> = {};
const adam: Record<string, number> = {};
for (const [spec, label, formula, volName, vocabParallel] of rows) {
  const N = worldSizeOf(parseParallelSpec(spec));
  const r = await run(spec, N, 1, vocabParallel);
  held[label] = r.out[0].memory.total;
  adam[label] = r.out[0].memory.optimizer;
  const m = r.out[0].memory;
  // NOTE: each timed step has two barriers (one f64 all-reduce each: 2·(N−1)/N·8 bytes per rank); they are not part of the strategy's traffic.
  const perStep = r.out[0].bytes / STEPS - 2 * ((2 * (N - 1)) / N) * 8;
  const volFormula = volName.startsWith('3') ? ((3 * (N - 1)) / N) * psi * 4 : volName ? ((2 * (N - 1)) / N) * psi * 4 : NaN;
  const predicted = formula(N);
  console.log(
    `${label.padEnd(15)} ${r.tokensPerS.toFixed(0).padStart(8)}  ${(r.tokensPerS / anchor.tokensPerS).toFixed(2).padStart(6)}x  ${kib(m.total).padStart(9)} | ${Number.isNaN(predicted) ? '—'.padStart(9) : kib(predicted).padStart(9)}          ` +
      `${kib(perStep).padStart(9)} | ${Number.isNaN(volFormula) ? '—' : `${kib(volFormula)} (${volName})`}`,
  );
  // The pipeline of replica 0 seen from tp rank 0 of each stage (rank = dp·(pp·tp) + pp·tp + tp).
  const tp = parseParallelSpec(spec).tp;
  if (r.out[0].timeline) bubbles.push(bubbleLine(label, spec, r.out.filter((o) => o.rank < N / parseParallelSpec(spec).dp && o.rank % tp === 0).map((o) => o.timeline!)));
}
console.log('');
for (const line of bubbles) console.log(line);
if (held['tp=2 vocab-par.'] !== undefined && held['tp=2 repl. vocab'] !== undefined) {
  const { vocabSize: V, dModel: C, tieEmbeddings } = resolveConfig(getPreset('tiny')).spec;
  const predicted = 16 * (tieEmbeddings ? 1 : 2) * (V - V / 2) * C;
  console.log(`vocab parallel (tp=2): rank 0 holds ${kib(held['tp=2 repl. vocab'] - held['tp=2 vocab-par.'])} less than with a replicated embedding/head (predicted 16·(V − V/t)·C${tieEmbeddings ? '' : '·2'} = ${kib(predicted)}), and the logits (B·T·V/t) are never gathered`);
}
if (adam['dp2×pp2'] !== undefined && adam['dp2×pp2 ZeRO-1'] !== undefined) {
  console.log(`ZeRO-1 over the dp group of dp=2 × pp=2: rank 0 keeps ${kib(adam['dp2×pp2 ZeRO-1'])} of AdamW state vs ${kib(adam['dp2×pp2'])} with ZeRO 0 (predicted 8Ψᵣ/dp = ${kib(adam['dp2×pp2'] / 2)}); held ${kib(held['dp2×pp2 ZeRO-1'])} vs ${kib(held['dp2×pp2'])}`);
}
console.log('held = fp32 params + grads + AdamW m,v the strategy keeps between steps (formulas adapted to fp32 masters: DDP 16Ψ, ZeRO-1 8Ψ+8Ψ/N, ZeRO-2 4Ψ+12Ψ/N, ZeRO-3 16Ψ/N);');
console.log('pp/tp hold their stage / shard of params, grads and state; pipeline traffic is activations (B/m·T·C per micro-batch each way), TP traffic 4 all-reduces of B·T·C per layer.');

/** Measured bubble against the formula and against the simulator fed with the measured per-stage op times. */
function bubbleLine(label: string, spec: string, timelines: { start: number; end: number; op: PipeOp }[][]): string {
  const p = timelines.length;
  const m = Number(/mb=(\d+)/.exec(spec)?.[1] ?? 4);
  const kind = spec.includes('gpipe') ? 'gpipe' : '1f1b';
  const costs = stageOpCosts(timelines);
  const sim = simulateSchedule(pipelineSchedule(kind, p, m), costs.tf, costs.tb);
  const blocks = stageRanges(resolveConfig(getPreset('tiny')).spec, p, parseParallelSpec(spec).partition).map(([a, b]) => b - a).join('+');
  const ms = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join('/');
  return (
    `${label} (blocks ${blocks}): measured bubble ${(100 * measuredBubble(timelines)).toFixed(1)} % (idle share of the last step, all stages) | ` +
    `(p−1)/(m+p−1) = ${((100 * (p - 1)) / (m + p - 1)).toFixed(1)} % | simulated with the measured op times ${(100 * sim.bubble).toFixed(1)} % ` +
    `(forward ${ms(costs.tf)} ms, backward ${ms(costs.tb)} ms per stage); the rest is message hand-over and the ranks sharing cores`
  );
}
