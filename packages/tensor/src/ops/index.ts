// The op functions, gathered for the Tensor methods and the public index; installs the hooks autograd needs.
import { setBackwardOps } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { binaryRaw } from './elementwise.js';
import { castRaw } from './dtype.js';
import { sumDimsRaw } from './reduce.js';
import { contiguous, installSumDims } from './views.js';

export * from './creation.js';
export * from './views.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './nn.js';
export * from './loss.js';
export * from './attention.js';
export * from './embedding.js';
export * from './dtype.js';
export * from './inplace.js';

installSumDims(sumDimsRaw);
setBackwardOps({
  add: (a, b) => binaryRaw('add', a, b),
  onesLike: (t) => full(t.shape, 1, { backend: t.backend }),
  contiguousF32: (t) => contiguous(t.dtype === 'f32' ? t : castRaw(t, 'f32')),
  alias: (t) => new Tensor(t.ref, t.shape, t.strides, t.offset),
});
