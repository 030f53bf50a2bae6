// The typed error the WebAssembly kernels throw: bad sgemm arguments, use before init, out of memory.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/** Stable codes of {@link WasmKernelError}. */
export type WasmKernelErrorCode =
  | 'TENSOR_WASM_NOT_READY'
  | 'TENSOR_BAD_ARGUMENT'
  | 'TENSOR_SHAPE_MISMATCH'
  | 'TENSOR_INDEX_OUT_OF_RANGE'
  | 'TENSOR_OUT_OF_MEMORY'
  | 'TENSOR_WASM_WORKER_FAILED';

/**
 * An error from the WebAssembly CPU kernels. The message names the kernel, the argument and the
 * offending values; `hint` says what to do.
 */
export class WasmKernelError extends LmkitError {
  declare readonly code: WasmKernelErrorCode;

  constructor(code: WasmKernelErrorCode, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}
