// The cpu backend: registers the storage manager and every kernel under the name 'cpu'.
import { registerBackend, registerKernel } from '../../backend.js';
import { assign, BINARY, binaryKernel, cast, copy, fill, UNARY, UNARY_GRAD, unaryGradKernel, unaryKernel } from './kernels/elementwise.js';
import { attention, attentionGrad } from './kernels/attention.js';
import { crossEntropy, crossEntropyGrad } from './kernels/cross-entropy.js';
import { embedding, embeddingGrad } from './kernels/embedding.js';
import { matmul } from './kernels/matmul.js';
import { layernorm, layernormGrad, rmsnorm, rmsnormGrad } from './kernels/norm.js';
import { max, sum } from './kernels/reduce.js';
import { rope } from './kernels/rope.js';
import { logSoftmax, logSoftmaxGrad, softmax, softmaxGrad } from './kernels/softmax.js';
import { cpuBackend } from './storage.js';

export { setCpuGemm, getCpuGemm } from './kernels/matmul.js';
export { sgemmJs, type SgemmParams, type Sgemm } from './gemm.js';
export { cpuState } from './storage.js';
export { useWasmKernels, useJsKernels, setCpuThreads, type UseWasmOptions } from './wasm.js';

const backend = 'cpu';

/** Registers the cpu backend and its kernels (idempotent). */
export function registerCpuBackend(): void {
  registerBackend(cpuBackend);
  registerKernel({ name: 'fill', backend, run: fill });
  registerKernel({ name: 'copy', backend, run: copy });
  registerKernel({ name: 'assign', backend, run: assign });
  registerKernel({ name: 'cast', backend, run: cast });
  for (const [name, op] of Object.entries(UNARY)) registerKernel({ name: name as keyof typeof UNARY, backend, run: unaryKernel(op) });
  for (const [name, op] of Object.entries(UNARY_GRAD)) registerKernel({ name: name as keyof typeof UNARY_GRAD, backend, run: unaryGradKernel(op) });
  for (const [name, op] of Object.entries(BINARY)) registerKernel({ name: name as keyof typeof BINARY, backend, run: binaryKernel(op) });
  registerKernel({ name: 'sum', backend, run: sum });
  registerKernel({ name: 'max', backend, run: max });
  registerKernel({ name: 'matmul', backend, run: matmul });
  registerKernel({ name: 'softmax', backend, run: softmax });
  registerKernel({ name: 'softmax_grad', backend, run: softmaxGrad });
  registerKernel({ name: 'log_softmax', backend, run: logSoftmax });
  registerKernel({ name: 'log_softmax_grad', backend, run: logSoftmaxGrad });
  registerKernel({ name: 'layernorm', backend, run: layernorm });
  registerKernel({ name: 'layernorm_grad', backend, run: layernormGrad });
  registerKernel({ name: 'rmsnorm', backend, run: rmsnorm });
  registerKernel({ name: 'rmsnorm_grad', backend, run: rmsnormGrad });
  registerKernel({ name: 'cross_entropy', backend, run: crossEntropy });
  registerKernel({ name: 'cross_entropy_grad', backend, run: crossEntropyGrad });
  registerKernel({ name: 'attention', backend, run: attention });
  registerKernel({ name: 'attention_grad', backend, run: attentionGrad });
  registerKernel({ name: 'rope', backend, run: rope });
  registerKernel({ name: 'embedding', backend, run: embedding });
  registerKernel({ name: 'embedding_grad', backend, run: embeddingGrad });
}
