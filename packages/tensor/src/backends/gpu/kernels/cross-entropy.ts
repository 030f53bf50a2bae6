// Fused softmax cross-entropy on the gpu backend: per-row logsumexp, the target's loss, and dlogits.
import type { Storage, View } from '../../../backend.js';
import { launch } from '../launch.js';
import type { GpuRuntime } from '../runtime.js';
import { at, layoutKey, lit, rowsOf } from '../source.js';
import { rowLogSumExp, rowMap } from './row-stats.js';
import type { GpuStorage } from '../storage.js';

/** logits (N, V), targets i32 (N) → [loss (N), lse (N)]; ignored rows get loss 0. */
export function crossEntropy(rt: GpuRuntime, logits: View, targets: View, ignoreIndex: number): [Storage, Storage] {
  const lse = rowLogSumExp(rt, logits);
  const { count, cs, rows } = rowsOf(logits);
  const source = `function(x, t, l) {
  const o = this.thread.x;
  const i0 = o;
  const tg = t[${at(targets, 'i')}];
  return tg == ${lit(ignoreIndex)} ? 0.0 : l[o] - x[${at(rows, 'i')} + tg * ${cs}];
}`;
  const loss = launch(rt, 'cross_entropy', { key: `ce:${ignoreIndex}:${layoutKey(logits)};${layoutKey(targets)}`, source, output: [count] }, [logits, targets, lse], count);
  return [loss, lse];
}

/** dlogits (N, V) = dloss[n]·(softmax − onehot(target)), zero rows for ignored targets. */
export function crossEntropyGrad(rt: GpuRuntime, logits: View, targets: View, lse: View, dloss: View, ignoreIndex: number): Storage {
  // NOTE: per-row inputs go through rowMap's row slots, which index a contiguous storage by row.
  const { count } = rowsOf(logits);
  const rowArgs = [contiguousRow(rt, targets, count), contiguousRow(rt, lse, count), contiguousRow(rt, dloss, count)];
  try {
    return rowMap(rt, `ce_grad:${ignoreIndex}`, [logits], rowArgs.map((r) => r.storage), [],
      `const r = r0 == ${lit(ignoreIndex)} ? 0.0 : r2 * (Math.exp(v0 - r1) - (j == r0 ? 1.0 : 0.0));`);
  } finally {
    for (const r of rowArgs) if (r.owned) r.storage.release();
  }
}

/** A (N) view as a contiguous storage: itself when already contiguous, else a copy the caller frees. */
function contiguousRow(rt: GpuRuntime, v: View, n: number): { storage: GpuStorage; owned: boolean } {
  const s = v.storage as GpuStorage;
  if (v.offset === 0 && (v.strides[0] === 1 || n <= 1) && s.size === n) return { storage: s, owned: false };
  const source = `function(x) {
  const o = this.thread.x;
  const i0 = o;
  return x[${at(v, 'i')}];
}`;
  return { storage: launch(rt, 'cross_entropy', { key: `row-copy:${layoutKey(v)}`, source, output: [n] }, [v], n), owned: true };
}
