// The key/value cache for incremental decoding: per layer, preallocated key/value buffers written in place.
import { concat, contiguous, keep, slice, zeros, type Tensor } from '@lmkit/tensor';
import { ModelError } from '../errors.js';

/** Options of {@link KVCache} and {@link LayerKVCache}. */
export interface KVCacheOptions {
  /**
   * Positions to allocate room for at the first append (e.g. the context length, or prompt plus new
   * tokens). The buffers double when a step needs more. Default: the first append's length, rounded up
   * to a power of two (at least 16).
   */
  capacity?: number;
  /**
   * Write positions in place into preallocated buffers (true) or grow by concatenation, copying the
   * earlier positions every step (false). Default: true on the cpu backend, false elsewhere — the gpu
   * backend's WebGL textures cannot be written in place (its `assign` round-trips through the host).
   */
  inPlace?: boolean;
}

/**
 * Cached keys and values of one attention layer. Buffers (B, Hkv, capacity, D) are allocated once
 * (doubling when full) and each step writes its positions in place; `k`/`v` are views of the first
 * `length` positions, so no step copies the earlier ones. (With `inPlace: false`, the default off
 * the cpu backend, it grows by concatenation instead.)
 */
export class LayerKVCache {
  private kBuf: Tensor | null = null;
  private vBuf: Tensor | null = null;
  private kView: Tensor | null = null;
  private vView: Tensor | null = null;
  private used = 0;
  private readonly initialCapacity: number;
  private readonly inPlaceOption: boolean | undefined;

  constructor(options: KVCacheOptions = {}) {
    const capacity = options.capacity ?? 0;
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new ModelError('MODEL_BAD_INPUT', `KV cache capacity must be an integer ≥ 0, got ${capacity}`, { hint: 'pass the context length, or leave capacity out' });
    }
    this.initialCapacity = capacity;
    this.inPlaceOption = options.inPlace;
  }

  /** Keys (B, Hkv, S, D) cached so far (a view of the buffer), or null before the first step. */
  get k(): Tensor | null {
    return this.kView;
  }

  /** Values (B, Hkv, S, D) cached so far (a view of the buffer), or null before the first step. */
  get v(): Tensor | null {
    return this.vView;
  }

  /** Positions cached (S). */
  get length(): number {
    return this.used;
  }

  /** Positions the buffers hold before they must grow (the cached length when concatenating). */
  get capacity(): number {
    return this.kBuf ? this.kBuf.shape[2]! : this.used;
  }

  /** Writes new keys/values (B, Hkv, T, D) after the cached ones and returns views of all (B, Hkv, S + T, D). */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const [B, Hkv, T, D] = k.shape as [number, number, number, number];
    if (this.kView) {
      const [b0, h0, , d0] = this.kView.shape;
      if (b0 !== B || h0 !== Hkv || d0 !== D) {
        throw new ModelError('MODEL_BAD_INPUT', `KV cache holds (B, Hkv, ·, D) = (${b0}, ${h0}, ·, ${d0}) but this step brings ${JSON.stringify([...k.shape])}`, {
          hint: 'use one cache per batch of sequences (clear() it to start a new batch)',
        });
      }
    }
    const needed = this.used + T;
    if (!(this.inPlaceOption ?? k.backend === 'cpu')) {
      // Concatenation: every step copies the earlier positions into a new tensor.
      const kOld = this.kView;
      const vOld = this.vView;
      this.kView = keep(kOld ? concat([kOld, k.detach()], 2) : contiguous(k.detach()));
      this.vView = keep(vOld ? concat([vOld, v.detach()], 2) : contiguous(v.detach()));
      kOld?.dispose();
      vOld?.dispose();
      this.used = needed;
      return { k: this.kView, v: this.vView };
    }
    if (needed > this.capacity) this.grow(B, Hkv, D, needed);
    const kBuf = this.kBuf!;
    const vBuf = this.vBuf!;
    slice(kBuf, 2, this.used, needed).assign(k.detach());
    slice(vBuf, 2, this.used, needed).assign(v.detach());
    this.used = needed;
    this.kView?.dispose();
    this.vView?.dispose();
    this.kView = keep(slice(kBuf, 2, 0, needed));
    this.vView = keep(slice(vBuf, 2, 0, needed));
    return { k: this.kView, v: this.vView };
  }

  /**
   * Keeps only the batch rows `rows` (in that order), e.g. to drop finished sequences from a batch:
   * new buffers of the same capacity receive those rows' cached positions (one copy per call).
   */
  keepRows(rows: readonly number[]): void {
    if (!this.kView || !this.vView) return;
    const B = this.kView.shape[0]!;
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= B) throw new ModelError('MODEL_BAD_INPUT', `KV cache keepRows: row ${r} is not one of the ${B} cached rows`);
    }
    if (!this.kBuf || !this.vBuf) {
      const pick = (t: Tensor): Tensor => keep(concat(rows.map((r) => slice(t, 0, r, r + 1)), 0));
      const [kNew, vNew] = [pick(this.kView), pick(this.vView)];
      this.disposeAll();
      this.kView = kNew;
      this.vView = vNew;
      return;
    }
    const [, Hkv, cap, D] = this.kBuf.shape as [number, number, number, number];
    const kNew = keep(zeros([rows.length, Hkv, cap, D]));
    const vNew = keep(zeros([rows.length, Hkv, cap, D]));
    rows.forEach((r, i) => {
      slice(slice(kNew, 0, i, i + 1), 2, 0, this.used).assign(slice(slice(this.kBuf!, 0, r, r + 1), 2, 0, this.used));
      slice(slice(vNew, 0, i, i + 1), 2, 0, this.used).assign(slice(slice(this.vBuf!, 0, r, r + 1), 2, 0, this.used));
    });
    const used = this.used;
    this.disposeAll();
    this.kBuf = kNew;
    this.vBuf = vNew;
    this.kView = keep(slice(kNew, 2, 0, used));
    this.vView = keep(slice(vNew, 2, 0, used));
  }

  /**
   * Adds the rows of `other` (a cache of fewer positions, e.g. a new sequence's prefill) after this
   * cache's rows, their positions right-aligned: they land at columns `leftPad…length−1`, and the columns
   * before stay zero (the caller masks them as padding). Needs `leftPad + other.length === length`.
   */
  joinRows(other: LayerKVCache, leftPad: number): void {
    if (!this.kView || !this.vView || !other.kView || !other.vView) {
      throw new ModelError('MODEL_BAD_INPUT', 'KV cache joinRows: both caches must hold positions', { hint: 'prefill the joining sequence first' });
    }
    if (!Number.isInteger(leftPad) || leftPad < 0 || leftPad + other.used !== this.used) {
      throw new ModelError('MODEL_BAD_INPUT', `KV cache joinRows: ${other.used} positions at column ${leftPad} do not end at this cache's length ${this.used}`, { hint: 'leftPad = length − other.length' });
    }
    const [B, Hkv, , D] = this.kView.shape as [number, number, number, number];
    const B2 = other.kView.shape[0]!;
    if (other.kView.shape[1] !== Hkv || other.kView.shape[3] !== D) {
      throw new ModelError('MODEL_BAD_INPUT', `KV cache joinRows: rows of shape ${JSON.stringify([...other.kView.shape])} do not fit (·, ${Hkv}, ·, ${D})`);
    }
    const cap = this.kBuf ? this.kBuf.shape[2]! : 0;
    const joined = (mine: Tensor, buf: Tensor | null, theirs: Tensor): Tensor => {
      if (!buf) return keep(concat([mine, concat([zeros([B2, Hkv, leftPad, D]), theirs], 2)], 0)); // concatenating cache
      const out = keep(zeros([B + B2, Hkv, cap, D]));
      slice(slice(out, 0, 0, B), 2, 0, this.used).assign(mine);
      slice(slice(out, 0, B, B + B2), 2, leftPad, this.used).assign(theirs);
      return out;
    };
    const k = joined(this.kView, this.kBuf, other.kView);
    const v = joined(this.vView, this.vBuf, other.vView);
    const inPlace = this.kBuf !== null;
    this.disposeAll();
    if (inPlace) {
      this.kBuf = k;
      this.vBuf = v;
      this.kView = keep(slice(k, 2, 0, this.used));
      this.vView = keep(slice(v, 2, 0, this.used));
    } else {
      this.kView = k;
      this.vView = v;
    }
  }

  // Allocates buffers of at least `needed` positions (doubling the old capacity) and copies what is cached.
  private grow(B: number, Hkv: number, D: number, needed: number): void {
    let cap = Math.max(this.capacity * 2, this.initialCapacity, 16);
    while (cap < needed) cap *= 2;
    const kNew = keep(zeros([B, Hkv, cap, D]));
    const vNew = keep(zeros([B, Hkv, cap, D]));
    if (this.kBuf && this.vBuf && this.used > 0) {
      slice(kNew, 2, 0, this.used).assign(slice(this.kBuf, 2, 0, this.used));
      slice(vNew, 2, 0, this.used).assign(slice(this.vBuf, 2, 0, this.used));
    }
    this.disposeAll();
    this.kBuf = kNew;
    this.vBuf = vNew;
  }

  private disposeAll(): void {
    for (const t of [this.kView, this.vView, this.kBuf, this.vBuf]) t?.dispose();
    this.kView = this.vView = this.kBuf = this.vBuf = null;
  }

  /** Frees the buffers; the next append starts a new sequence. */
  clear(): void {
    this.disposeAll();
    this.used = 0;
  }
}

/**
 * A KV cache for a whole model: one {@link LayerKVCache} per block. Pass it to
 * `model.forward(ids, { cache })`; each call writes the new positions and attends over all.
 *
 * @example
 * const cache = new KVCache(model.spec.nLayer, { capacity: model.spec.maxPositions });
 * let logits = model.forward(prompt, { cache });      // (1, T, V)
 * logits = model.forward(nextToken, { cache });       // (1, 1, V), positions continue at T
 */
export class KVCache {
  /** Per-layer caches. */
  readonly layers: LayerKVCache[];

  constructor(nLayer: number, options: KVCacheOptions = {}) {
    this.layers = Array.from({ length: nLayer }, () => new LayerKVCache(options));
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

  /** Adds the rows of `other` after this cache's rows in every layer, right-aligned at column `leftPad` (see {@link LayerKVCache.joinRows}). */
  joinRows(other: KVCache, leftPad: number): void {
    this.layers.forEach((layer, i) => layer.joinRows(other.layer(i), leftPad));
  }

  /** Keeps only the batch rows `rows` (in that order) in every layer, e.g. to drop finished sequences. */
  keepRows(rows: readonly number[]): void {
    for (const layer of this.layers) layer.keepRows(rows);
  }

  /** Frees every cached tensor. */
  clear(): void {
    for (const layer of this.layers) layer.clear();
  }
}
