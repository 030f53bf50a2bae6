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
      for (let i = 0; i < values.length; i++) values[i] = rng.normal() * std;
    } else if (!name.endsWith('bias')) {
      values.fill(1); // norm scales
    }
    p.write(values);
  }
}
