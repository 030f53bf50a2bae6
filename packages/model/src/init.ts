// GPT-2 initialization: weights N(0, std), residual projections N(0, std/√(2L)), biases 0, norm scales 1.
import type { Rng } from '@lmkit/tensor';
import type { ArchSpec } from './config.js';
import type { Module } from './module.js';

/** Output projections that add into the residual stream (GPT-2 paper §2.3: scaled by 1/√N, N = 2L residual layers). */
const RESIDUAL_PROJECTION = /(^|\.)(attn\.proj|mlp\.proj|experts\.\d+\.proj)\.weight$/;

/**
 * Initializes `model` in place the way GPT-2 / nanoGPT / llm.c do: every matrix (linear weights,
 * embeddings, router) N(0, initStd); residual output projections N(0, initStd/√(2·nLayer));
 * biases 0; LayerNorm/RMSNorm scales 1. Deterministic for a given `rng` state.
 */
export function initGpt2(model: Module, spec: ArchSpec, rng: Rng): void {
  const residualStd = spec.initStd / Math.sqrt(2 * spec.nLayer);
  for (const [name, p] of model.namedParameters()) {
    const values = new Float32Array(p.size);
    if (p.shape.length >= 2) {
      const std = RESIDUAL_PROJECTION.test(name) ? residualStd : spec.initStd;
      fillNormal(values, std, rng);
    } else if (!name.endsWith('bias')) {
      values.fill(1); // norm scales
    }
    p.write(values);
  }
}

/**
 * Fills `out` with N(0, std²) draws, using both outputs of each Box–Muller pair.
 * NOTE: twice as fast as one `rng.normal()` per value, which matters at 124M parameters.
 */
function fillNormal(out: Float32Array, std: number, rng: Rng): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (rng.uint32() + 1) / 4294967297; // (0, 1]
    const u2 = rng.uint32() / 4294967296;
    const r = std * Math.sqrt(-2 * Math.log(u1));
    const a = 2 * Math.PI * u2;
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
}
