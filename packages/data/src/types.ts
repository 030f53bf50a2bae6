// The contracts inside @lmkit/data: a Document, a per-document Step (filter or transform), and a
// corpus-wide Deduplicator that runs in phases so that N workers find the same duplicates as one.

/** One document flowing through a pipeline. */
export interface Document {
  /** Stable id: from the source record when it has one, else `<file>:<record index>`. */
  id: string;
  /** The text that filters look at and writers write. */
  text: string;
  /** Everything else from the source record plus what steps add (language, scores, source file, ...). */
  meta: Record<string, unknown>;
}

/** What a step returns to reject a document; `reason` is short and stable (e.g. "gopher_short_doc"). */
export interface Drop {
  drop: true;
  /** Machine-readable reason, written to the exclusion file and counted in the stats. */
  reason: string;
  /** Optional measured value behind the decision (e.g. the ratio that crossed the threshold). */
  value?: number;
}

/** Helper to build a {@link Drop}. */
export function drop(reason: string, value?: number): Drop {
  return value === undefined ? { drop: true, reason } : { drop: true, reason, value };
}

/** True when a step's result rejects the document. */
export function isDrop(result: Document | Drop): result is Drop {
  return (result as Drop).drop === true;
}

/** What the pipeline runner hands to every step. */
export interface StepContext {
  /** This worker's rank, 0-based. */
  rank: number;
  /** How many workers share the input. */
  worldSize: number;
  /** The pipeline's output directory (steps may keep state under `<outDir>/state/<step>`). */
  outDir: string;
}

/**
 * A per-document step: a filter (returns the document or a Drop) or a transform (returns a new
 * document). Steps are independent of each other and of document order, so any worker can run them.
 */
export interface Step {
  /** Unique, stable name used in stats, exclusion files and configs (e.g. "gopher_quality"). */
  readonly name: string;
  /** One-time async setup (loading a model, a word list). */
  init?(ctx: StepContext): Promise<void>;
  /** Processes one document. */
  process(doc: Document, ctx: StepContext): Document | Drop | Promise<Document | Drop>;
}

/**
 * A corpus-wide de-duplicator run in three phases, datatrove-style, so that results do not depend on
 * how the input is split across workers and memory does not grow with the corpus:
 * 1. `signatures`: every rank streams its documents and writes signature records to disk
 *    (`<workDir>/sigs/<rank>...`), each record tied to a document's global key.
 * 2. `cluster`: one task merges all ranks' sorted signature files and writes the keys of documents to
 *    remove (`<workDir>/remove/...`), keeping one document per duplicate cluster.
 * 3. `filter`: every rank streams its documents again and drops the ones listed for removal.
 * A document's key is a global ordinal that does not depend on the worker count (the runner builds
 * it from the input file's index and the record's index in that file), so "keep the first" keeps the
 * same document whatever the split.
 */
export interface Deduplicator {
  /** Unique, stable name (e.g. "minhash", "exact"). */
  readonly name: string;
  /** Phase 1 for one rank: compute and write signatures for `docs` (each with its global key). */
  signatures(docs: AsyncIterable<{ key: bigint; doc: Document }>, workDir: string, rank: number): Promise<void>;
  /** Phase 2, once for all ranks: read every rank's signatures and write the removal set. Returns how many keys are removed. */
  cluster(workDir: string, worldSize: number): Promise<{ removed: number; clusters: number }>;
  /** Phase 3 for one rank: returns a predicate that says whether the document with this key is a duplicate. */
  loadRemovals(workDir: string, rank: number): Promise<(key: bigint) => boolean>;
}
