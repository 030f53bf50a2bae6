// Training metrics as JSON lines: one record per logged step, appended as training runs, trimmed on resume.
import { appendFile, readFile } from 'node:fs/promises';
import { atomicWriteFile } from '@lmkit/core';

/** One line of `metrics.jsonl`. Fields that were not measured at a step are absent. */
export interface MetricsRecord {
  /** Optimizer step just completed (1-based). */
  step: number;
  /** Mean training loss over the step's micro-batches (nats per target token). */
  loss?: number;
  /** Validation loss (nats per target token), on evaluation steps. */
  val_loss?: number;
  /** Learning rate used for this step. */
  lr?: number;
  /** Global gradient norm before clipping. */
  grad_norm?: number;
  /** Training throughput over this step. */
  tokens_per_s?: number;
  /** Model FLOPs utilization over this step. */
  mfu?: number;
  /** Tokens processed since the start of the run (all steps). */
  tokens?: number;
  /** Loss scale (fp16 only). */
  loss_scale?: number;
  /** True when the step was skipped (fp16 overflow: Inf/NaN gradients). */
  skipped?: boolean;
  /** Wall-clock seconds since training started. */
  elapsed_s?: number;
}

/** Appends metrics to a JSON-lines file. */
export class MetricsLog {
  private constructor(
    /** The file written. */
    readonly path: string,
    private readonly records: MetricsRecord[],
  ) {}

  /**
   * Opens `path` for a new run (truncating it), or, with `resumeFromStep`, keeps the records up
   * to that step and drops later ones (they belong to the interrupted future).
   */
  static async open(path: string, options: { resumeFromStep?: number } = {}): Promise<MetricsLog> {
    let kept: MetricsRecord[] = [];
    if (options.resumeFromStep !== undefined) {
      const text = await readFile(path, 'utf8').catch(() => '');
      kept = readMetricsText(text).filter((r) => r.step <= (options.resumeFromStep as number));
    }
    await atomicWriteFile(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return new MetricsLog(path, kept);
  }

  /** Every record so far (including those kept from before a resume). */
  get all(): readonly MetricsRecord[] {
    return this.records;
  }

  /** Appends one record. */
  async write(record: MetricsRecord): Promise<void> {
    this.records.push(record);
    await appendFile(this.path, JSON.stringify(record) + '\n');
  }
}

/** Parses metrics JSON lines, skipping blank or damaged lines (a crash may cut the last one). */
export function readMetricsText(text: string): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as MetricsRecord;
      if (typeof r.step === 'number') out.push(r);
    } catch {
      // NOTE: a half-written last line after a crash is expected; the records before it stand.
    }
  }
  return out;
}
