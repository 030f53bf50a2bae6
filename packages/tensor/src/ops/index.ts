// The op functions gathered in one namespace, for the Tensor methods.

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

