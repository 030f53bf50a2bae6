// The error class of @lmkit/data: every deliberate failure carries a stable DATA_* code and a hint.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/** An error raised by @lmkit/data (bad input, bad config, unsupported format); `code` starts with `DATA_`. */
export class DataError extends LmkitError {
  constructor(code: `DATA_${string}`, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}
