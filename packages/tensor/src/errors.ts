// TensorError: the typed error every @lmkit/tensor failure throws, with a stable code.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/** The stable codes a TensorError carries. */
export type TensorErrorCode =
  | 'TENSOR_SHAPE_MISMATCH'
  | 'TENSOR_DTYPE_MISMATCH'
  | 'TENSOR_INDEX_OUT_OF_RANGE'
  | 'TENSOR_DISPOSED'
  | 'TENSOR_MISSING_KERNEL'
  | 'TENSOR_UNKNOWN_BACKEND'
  | 'TENSOR_GPU_UNAVAILABLE'
  | 'TENSOR_GRAPH_FREED'
  | 'TENSOR_BACKEND_MISMATCH'
  | 'TENSOR_BAD_ARGUMENT'
  | 'TENSOR_NO_GRAD';

/**
 * An error from @lmkit/tensor. The message names the op, the shapes and the argument at fault.
 *
 * @example
 * throw new TensorError('TENSOR_SHAPE_MISMATCH', 'matmul: a (2, 3) and b (4, 5): inner dims 3 ≠ 4', { hint: 'transpose b?' });
 */
export class TensorError extends LmkitError {
  declare readonly code: TensorErrorCode;
  constructor(code: TensorErrorCode, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Formats a shape the way error messages print it: `(2, 3, 4)`. */
export function fmtShape(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}
