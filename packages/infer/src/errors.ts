// InferError: the typed error of @lmkit/infer.
import { LmkitError } from '@lmkit/core';

/** Errors thrown by @lmkit/infer; codes start with `INFER_`. */
export class InferError extends LmkitError {}
