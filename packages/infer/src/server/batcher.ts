// Batcher: runs the requests waiting for one model together, one forward per step for the whole batch.
import { resolveGenerationConfig, type GenerationConfig, type ResolvedGenerationConfig } from '../config.js';
import { InferError } from '../errors.js';
import { generateBatchTokens, type BatchCausalLM } from '../generate-batch.js';
import { fitPrompt, type GenerationChunk, type GenerationStats, type TextTokenizer } from '../generate.js';
import { TextStream } from '../text-stream.js';

// One request's place in a batch: its inputs, and the chunks waiting for its reader.
interface Entry {
  ids: Int32Array;
  config: ResolvedGenerationConfig;
  text: TextStream;
  stats: GenerationStats;
  signal: AbortSignal | undefined;
  chunks: GenerationChunk[];
  error: Error | null;
  closed: boolean;
  wake: (() => void) | null;
}

/**
 * Continuous batching for the server: up to `maxBatch` waiting requests start together through
 * {@link generateBatchTokens}; a request arriving while a batch runs joins it at the next step when a row
 * is free and its prompt is no longer than the batch's cached positions (else it waits for the next
 * batch). Each request reads its own chunk stream, as `generate()` would give it; a request whose signal
 * aborts leaves its batch at the next step.
 */
export class Batcher {
  private readonly pending: Entry[] = [];
  private running = false;

  /**
   * @param model The model, able to run batches.
   * @param tokenizer Its tokenizer.
   * @param maxBatch Most requests in one batch (≥ 1).
   */
  constructor(
    private readonly model: BatchCausalLM,
    private readonly tokenizer: TextTokenizer,
    private readonly maxBatch: number,
  ) {}

  /** Generates for one prompt inside a batch, yielding its text chunks like `generate()`. */
  async *stream(prompt: string, config: GenerationConfig, options: { signal?: AbortSignal; stats?: GenerationStats } = {}): AsyncGenerator<GenerationChunk> {
    const resolved = resolveGenerationConfig(config, this.tokenizer.eotId === undefined ? {} : { eosTokenId: this.tokenizer.eotId });
    const fit = fitPrompt(this.tokenizer.encode(prompt), this.model.contextLength, resolved);
    const stats = options.stats ?? { promptTokens: 0, completionTokens: 0, truncated: false };
    stats.promptTokens = fit.ids.length;
    stats.truncated = fit.truncated;
    const entry: Entry = { ids: fit.ids, config: resolved, text: new TextStream(this.tokenizer, resolved), stats, signal: options.signal, chunks: [], error: null, closed: false, wake: null };
    const onAbort = (): void => this.fail(entry, new InferError('INFER_ABORTED', 'generation was aborted', { cause: options.signal?.reason }));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.pending.push(entry);
    if (!this.running) void this.run();
    try {
      for (;;) {
        if (entry.chunks.length > 0) {
          const chunk = entry.chunks.shift()!;
          yield chunk;
          if (chunk.finishReason !== undefined) return;
          continue;
        }
        if (entry.error) throw entry.error;
        await new Promise<void>((resolve) => (entry.wake = resolve));
        entry.wake = null;
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      // A reader that stops early (or failed) leaves its batch at the next step.
      entry.closed = true;
      const i = this.pending.indexOf(entry);
      if (i >= 0) this.pending.splice(i, 1);
    }
  }

  private fail(entry: Entry, error: Error): void {
    if (entry.closed || entry.error) return;
    entry.error = error;
    entry.wake?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch).filter((e) => !e.closed && !e.error);
        if (batch.length === 0) continue;
        // Requests arriving while the batch runs join it when a row is free and their prompt fits its cached positions.
        const admit = (cached: number, free: number): Array<{ ids: Int32Array; config: ResolvedGenerationConfig }> => {
          const joining: Entry[] = [];
          for (let k = 0; k < this.pending.length && joining.length < free;) {
            const e = this.pending[k]!;
            if (e.ids.length <= cached || e.closed || e.error) {
              this.pending.splice(k, 1);
              if (!e.closed && !e.error) joining.push(e);
            } else k++;
          }
          batch.push(...joining);
          return joining.map((e) => ({ ids: e.ids, config: e.config }));
        };
        const ended = new Set<number>();
        try {
          for await (const steps of generateBatchTokens(this.model, batch.map((e) => e.ids), batch.map((e) => e.config), { ended, admit, maxRows: this.maxBatch })) {
            batch.forEach((e, i) => {
              if (e.closed || e.error) ended.add(i);
            });
            for (const step of steps) {
              const e = batch[step.index]!;
              if (ended.has(step.index)) continue;
              if (step.tokenId !== undefined) e.stats.completionTokens++;
              const chunk = e.text.push(step);
              e.chunks.push(chunk);
              if (e.text.done) ended.add(step.index);
              e.wake?.();
            }
          }
        } catch (error) {
          for (const e of batch) this.fail(e, error as Error);
        }
        for (const e of batch) if (!e.text.done) this.fail(e, new InferError('INFER_INTERNAL', 'the batch ended before this request finished'));
      }
    } finally {
      this.running = false;
    }
  }
}
