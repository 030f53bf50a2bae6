// Helpers shared by the filter tests: run a step on a text, and build texts of exact lengths.
import { isDrop, type Document, type Drop, type Step } from '../types.js';

const CTX = { rank: 0, worldSize: 1, outDir: '.' };

/** Runs a step on a text; returns the drop reason or 'keep'. */
export async function verdict(step: Step, text: string, meta: Record<string, unknown> = {}): Promise<string> {
  const r = await step.process({ id: 't', text, meta }, CTX);
  return isDrop(r) ? r.reason : 'keep';
}

/** Runs a step on a text and returns the raw result. */
export async function run(step: Step, text: string, meta: Record<string, unknown> = {}): Promise<Document | Drop> {
  return step.process({ id: 't', text, meta }, CTX);
}

/** `n` distinct lowercase words of exactly `len` letters (base-26 counter, so none repeat). */
export function uniqueWords(n: number, len: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    let x = i + offset;
    let w = '';
    for (let k = 0; k < len; k++) {
      w = String.fromCharCode(97 + (x % 26)) + w;
      x = Math.floor(x / 26);
    }
    return w;
  });
}
