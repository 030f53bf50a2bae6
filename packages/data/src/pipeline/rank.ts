// One rank of a pipeline run: read its input slices, run the steps, then each de-duplicator's three phases; resumable at every commit.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWriteFile } from '@lmkit/core';
import { planSlices } from '../readers/byte-range.js';
import { readDocuments } from '../readers/formats.js';
import { drop, isDrop, type Deduplicator, type Document, type Drop, type Step, type StepContext } from '../types.js';

/** A de-duplicator whose phase 3 may edit documents (e.g. sentence-span removal). */
interface SpanCapable extends Deduplicator {
  loadFilter(workDir: string, rank: number): Promise<(key: bigint, doc: Document) => Document | Drop>;
}
import { compressChunk, compressionSuffix } from '../writers/compression.js';
import { excludedBadRecord, excludedDocument } from '../writers/exclusion.js';
import { documentToJsonLine, jsonLine } from '../writers/jsonl.js';
import type { PipelineConfig } from './config.js';
import { exists, pad, rankChunks, readJson, removeChunksFrom, runLayout, waitForFiles, writeJson, type BarrierOptions, type RunLayout } from './layout.js';
import { addStepStats, countDrop, emptyStepStats, type PipelineStats, type StepStats } from './stats.js';

/** Options for {@link runRank}. */
export interface RankOptions {
  /** This worker's rank, 0-based. */
  rank: number;
  /** Number of ranks sharing the input. */
  worldSize: number;
  /** The per-document steps, already built. */
  steps: Step[];
  /** The de-duplicators, already built. */
  dedups: Deduplicator[];
  /** Called as input bytes are consumed. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Barrier timeouts between de-duplication phases. */
  barrier?: BarrierOptions;
}

/** What a rank has committed: where to resume reading, the next chunk number, and the counts so far. */
interface Checkpoint {
  slice: number;
  resume?: number;
  seq: number;
  bytesDone: number;
  steps: StepStats[];
  seconds: number;
  stage1Done: boolean;
}

/** Global key of a record: input file index in the high bits, the record's position in its file in the low 44. */
export function documentKey(fileIndex: number, pos: number): bigint {
  return (BigInt(fileIndex) << 44n) | BigInt(pos);
}

/** An intermediate line: the key and location travel with the document between phases. */
interface StageLine {
  k: string;
  l: string;
  id: string;
  text: string;
  meta: Record<string, unknown>;
}

async function* stageDocuments(chunks: Array<{ path: string }>): AsyncGenerator<{ key: bigint; doc: Document; location: string }> {
  for (const chunk of chunks) {
    const text = await readFile(chunk.path, 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const s = JSON.parse(line) as StageLine;
      yield { key: BigInt(s.k), location: s.l, doc: { id: s.id, text: s.text, meta: s.meta } };
    }
  }
}

/** Runs the steps and the de-duplication phases for one rank and returns its stats (also in `stats/<rank>.json`). */
export async function runRank(config: PipelineConfig, options: RankOptions): Promise<PipelineStats> {
  const { rank, worldSize, steps, dedups } = options;
  const layout = runLayout(config.outDir);
  const done = await readJson<PipelineStats>(layout.rankStats(rank));
  if (done && (await exists(layout.completion(rank)))) return done;

  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const ctx: StepContext = { rank, worldSize, outDir: config.outDir };
  const slices = await planSlices(config.inputs, rank, worldSize);
  const bytesTotal = slices.reduce((sum, s) => sum + s.bytes, 0);
  const fresh = (): Checkpoint => ({
    slice: 0,
    seq: 0,
    bytesDone: 0,
    steps: [emptyStepStats('reader'), ...steps.map((s) => emptyStepStats(s.name)), ...dedups.map((d) => emptyStepStats(d.name))],
    seconds: 0,
    stage1Done: false,
  });
  const ckpt = (await readJson<Checkpoint>(layout.checkpoint(rank))) ?? fresh();
  const stage1Dir = dedups.length > 0 ? layout.stage(0) : config.outDir;

  if (!ckpt.stage1Done) {
    // Output after the last checkpoint was never acknowledged: remove it, we will produce it again.
    await removeChunksFrom(stage1Dir, rank, ckpt.seq);
    await removeChunksFrom(layout.excluded, rank, ckpt.seq);
    for (const step of steps) await step.init?.(ctx);
    await runStage1(config, options, layout, slices, bytesTotal, ckpt, stage1Dir, ctx, started);
  }

  const stats = ckpt.steps;
  const dedupStart = performance.now();
  const outputDocuments = { n: dedups.length > 0 ? 0 : stats[steps.length]!.kept };
  for (let round = 0; round < dedups.length; round++) {
    const roundStats = await dedupRound(config, options, layout, round);
    const target = stats[1 + steps.length + round]!;
    Object.assign(target, emptyStepStats(dedups[round]!.name));
    addStepStats(target, roundStats);
    outputDocuments.n = roundStats.kept;
  }
  const result: PipelineStats = {
    ranks: 1,
    worldSize,
    inputBytes: bytesTotal,
    steps: stats,
    outputDocuments: outputDocuments.n,
    seconds: ckpt.seconds + (performance.now() - dedupStart) / 1000,
    cpuSeconds: ((cpu) => (cpu.user + cpu.system) / 1e6)(process.cpuUsage(cpuStart)),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  await writeJson(layout.rankStats(rank), result);
  await atomicWriteFile(layout.completion(rank), new Date().toISOString() + '\n');
  return result;
}

async function runStage1(
  config: PipelineConfig,
  options: RankOptions,
  layout: RunLayout,
  slices: Awaited<ReturnType<typeof planSlices>>,
  bytesTotal: number,
  ckpt: Checkpoint,
  targetDir: string,
  ctx: StepContext,
  started: number,
): Promise<void> {
  const { rank, steps, dedups } = options;
  const final = dedups.length === 0;
  const compression = final ? (config.compression ?? 'none') : 'none';
  const chunkBytes = config.chunkBytes ?? 8 << 20;
  const reader = ckpt.steps[0]!;
  let out: string[] = [];
  let excluded: string[] = [];
  let buffered = 0;
  let sessionStart = started;

  const commit = async (slice: number, resume: number | undefined, bytesDone: number): Promise<void> => {
    const name = `${pad(rank)}_${pad(ckpt.seq)}.jsonl`;
    if (out.length > 0) await atomicWriteFile(join(targetDir, name + compressionSuffix(compression)), compressChunk(Buffer.from(out.join('\n') + '\n'), compression));
    if (excluded.length > 0) await atomicWriteFile(join(layout.excluded, name), excluded.join('\n') + '\n');
    if (out.length > 0 || excluded.length > 0) ckpt.seq++;
    ckpt.slice = slice;
    ckpt.resume = resume;
    ckpt.bytesDone = bytesDone;
    const now = performance.now();
    ckpt.seconds += (now - sessionStart) / 1000;
    sessionStart = now;
    await writeJson(layout.checkpoint(rank), ckpt);
    out = [];
    excluded = [];
    buffered = 0;
  };

  let sliceStartBytes = ckpt.bytesDone;
  for (let si = ckpt.slice; si < slices.length; si++) {
    const slice = slices[si]!;
    const resumeFrom = si === ckpt.slice ? ckpt.resume : undefined;
    const readerOptions = {
      ...(config.textField === undefined ? {} : { textField: config.textField }),
      ...(config.idField === undefined ? {} : { idField: config.idField }),
      ...(config.txtMode === undefined ? {} : { txtMode: config.txtMode }),
      ...(slice.range === undefined ? {} : { range: slice.range }),
      ...(resumeFrom === undefined ? {} : { resumeFrom }),
    };
    let sinceProgress = 0;
    for await (const item of readDocuments(slice.path, readerOptions)) {
      reader.in++;
      const within = slice.range ? Math.min(slice.bytes, Math.max(0, item.next - slice.range.start)) : 0;
      if (item.kind === 'bad') {
        countDrop(reader, item.reason);
        const line = jsonLine(excludedBadRecord(item));
        excluded.push(line);
        buffered += line.length;
      } else {
        reader.kept++;
        let doc: Document = item.doc;
        let kept = true;
        for (let i = 0; i < steps.length; i++) {
          const stats = ckpt.steps[i + 1]!;
          stats.in++;
          const t0 = performance.now();
          const pending = steps[i]!.process(doc, ctx);
          const result = pending instanceof Promise ? await pending : pending;
          stats.seconds += (performance.now() - t0) / 1000;
          if (isDrop(result)) {
            countDrop(stats, result.reason);
            const line = jsonLine(excludedDocument(doc, steps[i]!.name, result.reason, item.location, result.value));
            excluded.push(line);
            buffered += line.length;
            kept = false;
            break;
          }
          stats.kept++;
          doc = result;
        }
        if (kept) {
          const line = final
            ? documentToJsonLine(doc)
            : jsonLine({ k: documentKey(slice.fileIndex, item.pos).toString(), l: item.location, id: doc.id, text: doc.text, meta: doc.meta });
          out.push(line);
          buffered += line.length;
        }
      }
      if (buffered >= chunkBytes) await commit(si, item.next, sliceStartBytes);
      if (++sinceProgress >= 256) {
        sinceProgress = 0;
        options.onProgress?.(sliceStartBytes + within, bytesTotal);
      }
    }
    sliceStartBytes += slice.bytes;
    await commit(si + 1, undefined, sliceStartBytes);
    options.onProgress?.(sliceStartBytes, bytesTotal);
  }
  ckpt.stage1Done = true;
  await commit(slices.length, undefined, bytesTotal);
}

/** Phase 1 (signatures), barrier, phase 2 (cluster, rank 0), barrier, phase 3 (filter) for de-duplicator `round`. */
async function dedupRound(config: PipelineConfig, options: RankOptions, layout: RunLayout, round: number): Promise<StepStats> {
  const { rank, worldSize, dedups } = options;
  const dedup = dedups[round]!;
  const paths = layout.dedup(round);
  const last = round === dedups.length - 1;
  const targetDir = last ? config.outDir : layout.stage(round + 1);
  const compression = last ? (config.compression ?? 'none') : 'none';
  const stats = emptyStepStats(dedup.name);
  const chunks = await rankChunks(layout.stage(round), rank);
  // Temp files of writes a crash interrupted (finished chunks are recognized by their sidecar below).
  await removeChunksFrom(layout.excluded, rank, Infinity, `${dedup.name}-`);
  await removeChunksFrom(targetDir, rank, Infinity);

  const signed = await readJson<{ seconds: number }>(paths.signed(rank));
  if (signed) stats.seconds += signed.seconds;
  else {
    const t0 = performance.now();
    const docs = async function* () {
      for await (const { key, doc } of stageDocuments(chunks)) yield { key, doc };
    };
    await dedup.signatures(docs(), paths.work, rank);
    const seconds = (performance.now() - t0) / 1000;
    stats.seconds += seconds;
    await writeJson(paths.signed(rank), { seconds });
  }
  const ranks = Array.from({ length: worldSize }, (_, r) => paths.signed(r));
  await waitForFiles(ranks, `${dedup.name} signatures of all ranks`, options.barrier);
  if (rank === 0 && !(await exists(paths.clustered))) {
    const t0 = performance.now();
    const result = await dedup.cluster(paths.work, worldSize);
    const seconds = (performance.now() - t0) / 1000;
    await writeJson(paths.clustered, { ...result, seconds });
  }
  await waitForFiles([paths.clustered], `${dedup.name} clustering`, options.barrier);
  if (rank === 0) stats.seconds += (await readJson<{ seconds: number }>(paths.clustered))?.seconds ?? 0;

  // A span de-duplicator (sentence spans) edits documents in phase 3; the others only drop whole ones.
  const spanFilter = 'loadFilter' in dedup ? await (dedup as SpanCapable).loadFilter(paths.work, rank) : undefined;
  const isDuplicate = spanFilter ? undefined : await dedup.loadRemovals(paths.work, rank);
  for (const chunk of chunks) {
    const sidecar = paths.filtered(rank, chunk.seq);
    const previous = await readJson<StepStats>(sidecar);
    if (previous) {
      addStepStats(stats, previous);
      continue;
    }
    const t0 = performance.now();
    const chunkStats = emptyStepStats(dedup.name);
    const kept: string[] = [];
    const excluded: string[] = [];
    for await (const { key, doc: input, location } of stageDocuments([chunk])) {
      chunkStats.in++;
      const result: Document | Drop = spanFilter ? spanFilter(key, input) : isDuplicate!(key) ? drop('duplicate') : input;
      if (isDrop(result)) {
        countDrop(chunkStats, result.reason);
        excluded.push(jsonLine(excludedDocument(input, dedup.name, result.reason, location, result.value)));
      } else {
        const doc = result;
        chunkStats.kept++;
        kept.push(last ? documentToJsonLine(doc) : jsonLine({ k: key.toString(), l: location, id: doc.id, text: doc.text, meta: doc.meta }));
      }
    }
    const name = `${pad(rank)}_${pad(chunk.seq)}.jsonl`;
    if (excluded.length > 0) await atomicWriteFile(join(layout.excluded, `${dedup.name}-${name}`), excluded.join('\n') + '\n');
    if (kept.length > 0) await atomicWriteFile(join(targetDir, name + compressionSuffix(compression)), compressChunk(Buffer.from(kept.join('\n') + '\n'), compression));
    chunkStats.seconds = (performance.now() - t0) / 1000;
    await writeJson(sidecar, chunkStats);
    addStepStats(stats, chunkStats);
  }
  return stats;
}
