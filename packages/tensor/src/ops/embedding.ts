// Embedding gather of rows by i32 ids, with a scatter-add backward.
import { record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { contiguousView, expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import type { Tensor } from '../tensor.js';
import { toFloat } from './dtype.js';

/**
 * Rows of `weight` (V, C) picked by `ids` (…) i32 → (…, C). Out-of-range ids throw TENSOR_INDEX_OUT_OF_RANGE.
 *
 * @example
 * const x = embedding(wte, ids); // ids (B, T) → (B, T, C)
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  expectDtype(weight, ['f32', 'bf16', 'f16'], 'embedding', 'weight');
  expectDtype(ids, ['i32'], 'embedding', 'ids');
  if (weight.ndim !== 2) throw new TensorError('TENSOR_SHAPE_MISMATCH', `embedding: weight ${fmtShape(weight.shape)} must be (V, C)`);
  const [vocab, c] = weight.shape;
  const idData = ids.data() as Int32Array;
  for (let i = 0; i < idData.length; i++) {
    const id = idData[i];
    if (!(id >= 0 && id < vocab)) {
      throw new TensorError('TENSOR_INDEX_OUT_OF_RANGE', `embedding: ids[${i}] = ${id} is outside [0, ${vocab}) for weight ${fmtShape(weight.shape)}`, {
        hint: 'ids must be below the vocabulary size; check the tokenizer and the model config agree',
        details: { op: 'embedding', index: i, value: id, vocab },
      });
    }
  }
  const w = toFloat(weight);
  const wc = contiguousView(w, 'embedding', 'weight');
  const ic = contiguousView(ids, 'embedding', 'ids');
  const out = wrap(kernelFor('embedding', 'embedding', [w, ids])(wc.view, ic.view), [...ids.shape, c]);
  wc.release();
  ic.release();
  return record(out, 'embedding', [w], (g) => {
    const gc = contiguousView(g, 'embedding', 'grad');
    const iv = contiguousView(ids, 'embedding', 'ids');
    const dw = wrap(kernelFor('embedding_grad', 'embedding', [ids, g])(iv.view, gc.view, vocab), [vocab, c]);
    gc.release();
    iv.release();
    return [dw];
  });
}
