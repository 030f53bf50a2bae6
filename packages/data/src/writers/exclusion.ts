// The exclusion record: what a rejected document or unreadable record looks like in `excluded/*.jsonl`.
import type { Document } from '../types.js';
import type { BadRecord } from '../readers/record.js';

/** One line of an exclusion file. */
export interface ExclusionRecord {
  /** The document id (or the bad record's location). */
  id: string;
  /** The step that rejected it (`"reader"` for unreadable input). */
  step: string;
  /** Stable reason code from the step. */
  reason: string;
  /** The measured value behind the decision, when the step gave one. */
  value?: number;
  /** Where the record came from, `file:line`. */
  location: string;
  /** The document text (or the raw start of a bad record). */
  text?: string;
  /** Human message for bad records. */
  message?: string;
  /** The document's metadata. */
  meta?: Record<string, unknown>;
}

/** The exclusion record of a document a step dropped. */
export function excludedDocument(doc: Document, step: string, reason: string, location: string, value?: number): ExclusionRecord {
  const record: ExclusionRecord = { id: doc.id, step, reason, location, text: doc.text, meta: doc.meta };
  if (value !== undefined) record.value = value;
  return record;
}

/** The exclusion record of an input record that could not be read. */
export function excludedBadRecord(bad: BadRecord): ExclusionRecord {
  const record: ExclusionRecord = { id: bad.location, step: 'reader', reason: bad.reason, location: bad.location, message: bad.message };
  if (bad.raw !== undefined) record.text = bad.raw;
  return record;
}
