// The one error base every lmkit package throws: a stable `code`, a message that names the input, and a hint.

/** Options that every LmkitError may carry besides its code and message. */
export interface LmkitErrorOptions {
  /** What the user can do about it, printed on its own line by the CLI. */
  hint?: string;
  /** Structured facts (file, line, field, shape...) for `--json` output and programmatic handling. */
  details?: Record<string, unknown>;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every error lmkit throws on purpose. `code` is stable and upper snake case,
 * prefixed by the package (`TOKENIZER_BAD_FILE`, `TENSOR_SHAPE_MISMATCH`, ...).
 *
 * @example
 * throw new LmkitError('DATA_BAD_JSONL', 'corpus.jsonl:12: not valid JSON', { hint: 'fix or remove the line' });
 */
export class LmkitError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  /** What to do about it. */
  readonly hint?: string;
  /** Structured facts about the failure. */
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: LmkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.details !== undefined) this.details = options.details;
  }

  /** A plain object for JSON output: `{ name, code, message, hint?, details? }`. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** True for any LmkitError (also across duplicated module copies, by duck typing on `code`). */
export function isLmkitError(error: unknown): error is LmkitError {
  if (error instanceof LmkitError) return true;
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(code) && error instanceof Error && error.constructor !== Error;
}
