// The error @lmkit/train throws on purpose: a TRAIN_* code, the offending input, and what to do.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/**
 * A training error with a stable code, e.g. `TRAIN_BAD_CONFIG`, `TRAIN_DATA_TOO_SMALL`,
 * `TRAIN_NONFINITE_LOSS`, `TRAIN_NO_DATA`, `TRAIN_BAD_CHECKPOINT`, `TRAIN_RESUME_MISMATCH`.
 */
export class TrainError extends LmkitError {
  constructor(code: `TRAIN_${string}`, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}
