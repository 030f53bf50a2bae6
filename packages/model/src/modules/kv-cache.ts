// The key/value cache for incremental decoding: per layer, the keys and values of every position seen so far.
import { concat, type Tensor } from '@lmkit/tensor';
import { ModelError } from '../errors.js';

/** Cached keys and values of one attention layer, each (B, Hkv, S, D). */
export class LayerKVCache {
  /** Keys (B, Hkv, S, D), or null before the first step. */
  k: Tensor | null = null;
  /** Values (B, Hkv, S, D), or null before the first step. */
  v: Tensor | null = null;

  /** Positions cached (S). */
  get length(): number {
    return this.k ? this.k.shape[2]! : 0;
  }

  /** Appends new keys/values (B, Hkv, T, D) and returns the full (B, Hkv, S + T, D) pair. */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const kd = k.detach();
    const vd = v.detach();
    this.k = this.k ? concat([this.k, kd], 2) : kd;
    this.v = this.v ? concat([this.v, vd], 2) : vd;
    return { k: this.k, v: this.v };
  }

  /** Frees the cached tensors. */
  clear(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = null;
    this.v = null;
  }
}

/**
 * A KV cache for a whole model: one {@link LayerKVCache} per block. Pass it to
 * `model.forward(ids, { cache })`; each call appends the new positions and attends over all.
 *
 * @example
 * const cache = new KVCache(model.spec.nLayer);
 * let logits = model.forward(prompt, { cache });      // (1, T, V)
 * logits = model.forward(nextToken, { cache });       // (1, 1, V), positions continue at T
 */
export class KVCache {
  /** Per-layer caches. */
  readonly layers: LayerKVCache[];

  constructor(nLayer: number) {
    this.layers = Array.from({ length: nLayer }, () => new LayerKVCache());
  }

  /** Positions cached so far. */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  /** The cache of layer `i`. */
  layer(i: number): LayerKVCache {
    const layer = this.layers[i];
    if (!layer) throw new ModelError('MODEL_BAD_INPUT', `KV cache has ${this.layers.length} layers, asked for layer ${i}`, { hint: 'create the cache with new KVCache(model.spec.nLayer)' });
    return layer;
  }

  /** Frees every cached tensor. */
  clear(): void {
    for (const layer of this.layers) layer.clear();
  }
}
