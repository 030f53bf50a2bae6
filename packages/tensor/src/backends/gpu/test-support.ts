// Test support for the gpu backend: a GL runtime under Xvfb, or a stated reason to skip (never in CI).
import { ensureDisplay } from './display.js';
import { GpuRuntime } from './runtime.js';
import { uploadStorage, readStorage, type GpuStorage } from './storage.js';
import type { View } from '../../backend.js';
import { contiguousStrides } from './source.js';

/** A GL runtime for tests, or why there is none. */
export interface GpuTestEnv {
  /** The runtime, null when GL is unavailable here. */
  rt: GpuRuntime | null;
  /** Why the gpu tests are skipped ('' when they run). */
  reason: string;
}

let cached: Promise<GpuTestEnv> | null = null;

/**
 * Starts Xvfb if needed and creates a GL runtime. Without GL the tests are skipped with the
 * reason — except when CI=true, where .ci/run installs Xvfb and Mesa, so a missing GL throws.
 */
export function gpuTestEnv(): Promise<GpuTestEnv> {
  cached ??= (async () => {
    const d = await ensureDisplay();
    let reason = d.reason ?? '';
    let rt: GpuRuntime | null = null;
    if (d.display !== null) {
      try {
        rt = new GpuRuntime({ mode: 'gpu' });
      } catch (e) {
        reason = (e as Error).message;
      }
    }
    if (rt === null && process.env.CI === 'true') {
      throw new Error(`gpu backend tests: no GL in CI (CI=true), which .ci/run provides: ${reason}`);
    }
    return { rt, reason };
  })();
  return cached;
}

/** Uploads host values as a contiguous view of `shape`. */
export function upView(rt: GpuRuntime, data: ArrayLike<number>, shape: readonly number[], dtype: 'f32' | 'i32' = 'f32'): View {
  const arr = dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
  return { storage: uploadStorage(rt, arr, dtype), shape, strides: contiguousStrides(shape), offset: 0 };
}

/** Reads a storage back as plain numbers. */
export function down(rt: GpuRuntime, s: unknown): number[] {
  return Array.from(readStorage(rt, s as GpuStorage));
}

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function randomValues(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Largest |got − want| / (atol/rtol-scaled) violation; throws a readable message when over tolerance. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} ≠ ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) {
      if (!Number.isNaN(g)) throw new Error(`${what}[${i}]: got ${g}, want NaN`);
      continue;
    }
    if (!Number.isFinite(w)) {
      if (g !== w) throw new Error(`${what}[${i}]: got ${g}, want ${w}`);
      continue;
    }
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}[${i}]: got ${g}, want ${w} (|Δ| ${Math.abs(g - w).toExponential(2)} > ${atol} + ${rtol}·|want|)`);
    }
  }
}
