// Fused scaled-dot-product attention (causal or bidirectional, GQA/MQA, ALiBi) and rotary position embedding.
import { isGradEnabled, record } from '../autograd.js';
import { TensorError, fmtShape } from '../errors.js';
import { contiguousView, expectDtype, kernelFor, wrap } from '../internal/dispatch.js';
import type { View } from '../backend.js';
import type { AttentionKernelOptions } from '../kernels/names.js';
import type { Tensor } from '../tensor.js';
import { toFloat } from './dtype.js';

/** Options of `attention`. */
export interface AttentionOptions {
  /** Each query sees only keys at or before its position (default false). */
  causal?: boolean;
  /** Multiplier of q·k (default 1/√D). */
  scale?: number;
  /** Per-head ALiBi slopes (length H); adds −slope·|qpos − kpos| to each score (default none). */
  alibiSlopes?: Float32Array | readonly number[] | null;
  /** Position of query 0 relative to key 0, for KV-cache decoding (default S − T when causal, else 0). */
  positionOffset?: number;
}

/**
 * Attention softmax(q·kᵀ·scale + mask)·v in one fused kernel (tiled online softmax; the backward
 * recomputes probabilities from the saved logsumexp). q (B, H, T, D), k and v (B, Hkv, S, D), Hkv dividing H.
 *
 * @example
 * const y = attention(q, k, v, { causal: true }); // (B, H, T, D)
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  for (const [t, name] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
    expectDtype(t, ['f32', 'bf16', 'f16'], 'attention', name);
    if (t.ndim !== 4) throw new TensorError('TENSOR_SHAPE_MISMATCH', `attention: ${name} ${fmtShape(t.shape)} must be 4-D (B, H, T, D)`);
  }
  const [b, h, t, d] = q.shape;
  const [bk, hkv, s, dk] = k.shape;
  const ok = bk === b && dk === d && hkv > 0 && h % hkv === 0 && v.shape.every((x, i) => x === k.shape[i]);
  if (!ok) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `attention: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not fit (B, H, T, D) / (B, Hkv, S, D) with Hkv dividing H`, {
      details: { op: 'attention', q: [...q.shape], k: [...k.shape], v: [...v.shape] },
    });
  }
  const slopes = options.alibiSlopes == null ? null : Float32Array.from(options.alibiSlopes);
  if (slopes !== null && slopes.length !== h) throw new TensorError('TENSOR_SHAPE_MISMATCH', `attention: alibiSlopes has ${slopes.length} entries, expected H = ${h}`);
  const causal = options.causal ?? false;
  const opts: AttentionKernelOptions = {
    causal,
    scale: options.scale ?? 1 / Math.sqrt(d),
    positionOffset: options.positionOffset ?? (causal ? s - t : 0),
    alibiSlopes: slopes,
  };
  const qf = toFloat(q);
  const kf = toFloat(k);
  const vf = toFloat(v);
  const inputs = [qf, kf, vf];
  const needGrad = isGradEnabled() && inputs.some((x) => x.requiresGrad);
  // Row-major q/k/v (copies of strided inputs, e.g. heads split out of a fused qkv projection). When a
  // backward may follow they are kept for it, like lse, instead of being gathered a second time.
  // Without a backward, cpu k/v that are row-major per (b, kvh) with a uniform stride between them (the
  // first S positions of a preallocated KV cache) are read in place: no O(S) gather per decoded token.
  const packs = [pack(qf, 'q'), needGrad ? pack(kf, 'k') : packKv(kf, 'k'), needGrad ? pack(vf, 'v') : packKv(vf, 'v')];
  const [os, ls] = kernelFor('attention', 'attention', inputs)(packs[0].view, packs[1].view, packs[2].view, opts);
  const out = wrap(os, [b, h, t, d]);
  const lse = wrap(ls, [b, h, t]);
  if (!needGrad) {
    for (const p of packs) p.release();
    lse.dispose(); // only the backward reads it
    return out;
  }
  return record(out, 'attention', inputs, (g) => {
    const grad = contiguousView(g, 'attention', 'grad');
    const [dq, dk2, dv] = kernelFor('attention_grad', 'attention', [...inputs, g])(packs[0].view, packs[1].view, packs[2].view, out.view(), lse.view(), grad.view, opts);
    grad.release();
    return [wrap(dq, qf.shape), wrap(dk2, kf.shape), wrap(dv, vf.shape)];
  });
}

// A row-major view of `t` for the attention kernels: `t` itself when it is one, else a copy owned by a tensor
// of the current scope (freed with it, or by release()).
function pack(t: Tensor, arg: string): { view: View; release: () => void } {
  const c = contiguousView(t, 'attention', arg);
  if (c.view.storage === t.view('attention', arg).storage) return c;
  const owner = wrap(c.view.storage, t.shape);
  return { view: c.view, release: () => owner.dispose() };
}

// k or v (B, Hkv, S, D) as a cpu view the forward kernel reads in place when rows of D are contiguous, S rows
// follow each other and the (b, kvh) blocks sit a uniform stride apart; else a row-major copy like pack().
function packKv(t: Tensor, arg: string): { view: View; release: () => void } {
  const view = t.view('attention', arg);
  const [b, hkv, , d] = t.shape;
  const st = t.strides;
  const ns = hkv > 1 ? st[1] : st[0]; // stride between consecutive (b, kvh) blocks
  const uniform = b === 1 || hkv === 1 || st[0] === hkv * st[1];
  if (t.backend !== 'cpu' || st[3] !== 1 || st[2] !== d || !uniform || t.isContiguous) return pack(t, arg);
  return { view: { ...view, strides: [hkv * ns, ns, d, 1] }, release: () => {} };
}

/** Options of `rope`. */
export interface RopeOptions {
  /** Position of the first row of T (default 0; the cache length when decoding). */
  positionOffset?: number;
  /** Base of the frequencies θ^(−2i/D) (default 10000). */
  theta?: number;
}

/** Rotary position embedding on x (B, H, T, D) with half-split pairs (HF LLaMA / GPT-NeoX layout). */
export function rope(x: Tensor, options: RopeOptions = {}): Tensor {
  expectDtype(x, ['f32', 'bf16', 'f16'], 'rope', 'x');
  if (x.ndim < 2 || x.shape[x.ndim - 1] % 2 !== 0) {
    throw new TensorError('TENSOR_SHAPE_MISMATCH', `rope: x ${fmtShape(x.shape)} must be (…, T, D) with D even`);
  }
  const offset = options.positionOffset ?? 0;
  const theta = options.theta ?? 10000;
  const xf = toFloat(x);
  const xc = contiguousView(xf, 'rope', 'x');
  const y = wrap(kernelFor('rope', 'rope', [xf])(xc.view, offset, theta, false), xf.shape);
  xc.release();
  return record(y, 'rope', [xf], (g) => {
    const gc = contiguousView(g, 'rope', 'grad');
    const dx = wrap(kernelFor('rope', 'rope', [g])(gc.view, offset, theta, true), xf.shape);
    gc.release();
    return [dx];
  });
}
