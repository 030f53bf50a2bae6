// The error class @lmkit/model throws: bad configs, bad checkpoints, state-dict mismatches.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/** Stable codes of {@link ModelError}. */
export type ModelErrorCode =
  | 'MODEL_BAD_CONFIG'
  | 'MODEL_UNKNOWN_TYPE'
  | 'MODEL_BAD_SAFETENSORS'
  | 'MODEL_STATE_DICT_MISMATCH'
  | 'MODEL_BAD_INPUT';

/**
 * An error from @lmkit/model. The message names the field, tensor key or file at fault and
 * what was expected; `hint` says what to do.
 */
export class ModelError extends LmkitError {
  declare readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}
