// Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ does it.

/** The global L2 norm of all gradients together (accumulated in float64). */
export function globalGradNorm(grads: readonly Float32Array[]): number {
  let sumSq = 0;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) sumSq += g[i] * g[i];
  }
  return Math.sqrt(sumSq);
}

/**
 * Scales all gradients in place so that their global L2 norm is at most `maxNorm`
 * (coefficient `maxNorm / (norm + 1e-6)`, applied only when below 1, as torch does).
 * Returns the norm before clipping (what training logs report). A non-finite norm is
 * returned as is and nothing is scaled.
 *
 * @example
 * const norm = clipGradNorm(params.map((p) => p.grad), 1.0);
 */
export function clipGradNorm(grads: readonly Float32Array[], maxNorm: number): number {
  const norm = globalGradNorm(grads);
  if (!Number.isFinite(norm) || !(maxNorm > 0)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return norm;
}
