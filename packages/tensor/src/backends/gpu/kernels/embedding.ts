// Embedding gather and its scatter-add backward on the gpu backend.
import type { Storage, View } from '../../../backend.js';
import { TensorError } from '../../../errors.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, decompose, layoutKey, numel } from '../source.js';
import { downloadHandle, handleOf, uploadStorage } from '../storage.js';
import { copy } from './memory.js';

/** w (V, C), ids i32 (…) → (…, C): row ids[r] of w for each id. */
export function embedding(rt: GpuRuntime, w: View, ids: View): Storage {
  const c = w.shape[1]!;
  const size = numel(ids.shape) * c;
  const source = `function(w, ids) {
  const o = this.thread.x;
  const j = o % ${c};
  const r = Math.floor(o / ${c});
  ${decompose(ids.shape, 'r', 'i')}
  const id = ids[${at(ids, 'i')}];
  return w[${w.offset} + id * ${w.strides[0]} + j * ${w.strides[1]}];
}`;
  return launch(rt, 'embedding', { key: `emb:${layoutKey(w)};${layoutKey(ids)}`, source, output: [size] }, [w, ids], size);
}

/**
 * dw (vocab, C) = Σ over rows r with ids[r] = v of dy[r]. The ids are read to the host (they are
 * small) and sorted into per-id row lists, so each dw element sums only its own rows on the device.
 */
export function embeddingGrad(rt: GpuRuntime, ids: View, dy: View, vocab: number): Storage {
  const n = numel(ids.shape);
  const c = dy.shape[dy.shape.length - 1]!;
  const idCopy = copy(rt, ids);
  const host = n === 0 ? new Float32Array(0) : downloadHandle(rt, handleOf({ storage: idCopy, shape: [n], strides: [1], offset: 0 }, 'embedding_grad'), n);
  (idCopy as { release?: () => void }).release?.();
  const counts = new Int32Array(vocab + 1);
  for (let r = 0; r < n; r++) {
    const id = host[r]!;
    if (!(id >= 0 && id < vocab)) {
      throw new TensorError('TENSOR_INDEX_OUT_OF_RANGE', `embedding_grad: ids[${r}] = ${id} is outside [0, ${vocab})`, {
        hint: 'ids must index rows of the embedding table', details: { op: 'embedding_grad', index: r, id, vocab },
      });
    }
    counts[id + 1]!++;
  }
  for (let v = 0; v < vocab; v++) counts[v + 1]! += counts[v]!;
  const order = new Float32Array(Math.max(n, 1));
  const fillAt = counts.slice(0, vocab);
  for (let r = 0; r < n; r++) order[fillAt[host[r]!]!++] = r;
  const offsets = uploadStorage(rt, Float32Array.from(counts), 'f32');
  const rowsOrder = uploadStorage(rt, order, 'f32');
  // NOTE: the loop bound is the row count (fixed per shape, so the shader is reused); a thread stops
  // at its own id's count with `break`.
  const dyRows = { ...dy, shape: dy.shape.slice(0, -1), strides: dy.strides.slice(0, -1) };
  const source = `function(offs, order, dy) {
  const o = this.thread.x;
  const j = o % ${c};
  const v = Math.floor(o / ${c});
  const start = offs[v];
  const cnt = offs[v + 1] - start;
  let s = 0.0;
  for (let k = 0; k < ${Math.max(n, 1)}; k++) {
    if (k >= cnt) { break; }
    const r = order[start + k];
    ${decompose(dyRows.shape, 'r', 'i')}
    s += dy[${at(dyRows, 'i')} + j * ${dy.strides[dy.strides.length - 1]}];
  }
  return s;
}`;
  try {
    return launch(rt, 'embedding_grad', { key: `emb-grad:${vocab}:${n}:${layoutKey(dy)}`, source, output: [vocab * c] }, [offsets, rowsOrder, dy], vocab * c);
  } finally {
    offsets.release();
    rowsOrder.release();
  }
}
