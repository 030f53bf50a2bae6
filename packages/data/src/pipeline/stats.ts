// Per-step kept/dropped counts and timings, per rank and merged across ranks.

/** What one step did. */
export interface StepStats {
  /** Step name (`"reader"` for input parsing). */
  name: string;
  /** Documents that reached the step. */
  in: number;
  kept: number;
  dropped: number;
  /** Dropped documents per reason. */
  reasons: Record<string, number>;
  /** Seconds spent in the step. */
  seconds: number;
}

/** What one rank (or, merged, the whole run) did. */
export interface PipelineStats {
  /** Ranks merged into this object. */
  ranks: number;
  worldSize: number;
  /** Input bytes covered. */
  inputBytes: number;
  /** Steps in pipeline order, the reader first and de-duplicators last. */
  steps: StepStats[];
  /** Documents written to the output. */
  outputDocuments: number;
  /** Wall-clock seconds (for merged stats: the slowest rank). */
  seconds: number;
  /** CPU seconds (user + system) the rank's process spent in this run (merged: the sum). */
  cpuSeconds?: number;
  /** Peak resident memory of the rank's process in bytes (for merged stats: the largest). */
  peakRssBytes?: number;
}

/** A fresh counter for a step. */
export function emptyStepStats(name: string): StepStats {
  return { name, in: 0, kept: 0, dropped: 0, reasons: {}, seconds: 0 };
}

/** Records one dropped document. */
export function countDrop(stats: StepStats, reason: string): void {
  stats.dropped++;
  stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
}

/** Adds `from` into `into` (same step). */
export function addStepStats(into: StepStats, from: StepStats): void {
  into.in += from.in;
  into.kept += from.kept;
  into.dropped += from.dropped;
  into.seconds += from.seconds;
  for (const [reason, n] of Object.entries(from.reasons)) into.reasons[reason] = (into.reasons[reason] ?? 0) + n;
}

/** Merges per-rank stats: counts and step seconds add up; `seconds` is the slowest rank's. */
export function mergeStats(all: readonly PipelineStats[]): PipelineStats {
  const merged: PipelineStats = { ranks: 0, worldSize: all[0]?.worldSize ?? 1, inputBytes: 0, steps: [], outputDocuments: 0, seconds: 0 };
  for (const stats of all) {
    merged.ranks += stats.ranks;
    merged.inputBytes += stats.inputBytes;
    merged.outputDocuments += stats.outputDocuments;
    merged.seconds = Math.max(merged.seconds, stats.seconds);
    if (stats.cpuSeconds !== undefined) merged.cpuSeconds = (merged.cpuSeconds ?? 0) + stats.cpuSeconds;
    if (stats.peakRssBytes !== undefined) merged.peakRssBytes = Math.max(merged.peakRssBytes ?? 0, stats.peakRssBytes);
    stats.steps.forEach((step, i) => {
      const target = merged.steps[i] ?? (merged.steps[i] = emptyStepStats(step.name));
      addStepStats(target, step);
    });
  }
  return merged;
}
