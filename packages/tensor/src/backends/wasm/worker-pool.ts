// The tensor kernels' worker pool: a WasmJobPool running the kernels' run_job, failing with WasmKernelError.
import { WasmJobPool } from './job-pool';

/** The pool the WebAssembly kernels run on (jobs in c/jobs.c; errors TENSOR_WASM_WORKER_FAILED). */
export class WorkerPool extends WasmJobPool {
  /**
   * @param module the compiled kernels (shared with the workers, not recompiled)
   * @param memory the shared memory the kernels import
   */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    super({ module, memory, jobExport: 'run_job' });
  }
}
