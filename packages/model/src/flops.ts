// Parameter counts and training FLOPs per token from an architecture, for MFU (nanoGPT estimate_mfu / PaLM appendix B).
import type { ArchSpec } from './config.js';

/** Options of {@link countParams}. */
export interface CountParamsOptions {
  /** Leave out the position table (nanoGPT's `non_embedding=True`). Default false. */
  nonEmbedding?: boolean;
  /** For MoE, count only the `topK` experts a token uses instead of all. Default false. */
  activeOnly?: boolean;
}

function normParams(spec: ArchSpec): number {
  return spec.norm === 'layernorm' && spec.normBias ? 2 * spec.dModel : spec.dModel;
}

function mlpParams(spec: ArchSpec): number {
  const { dModel: C, dFf: F } = spec;
  if (spec.mlp === 'swiglu') return 3 * C * F + (spec.mlpBias ? 2 * F + C : 0);
  return 2 * C * F + (spec.mlpBias ? F + C : 0);
}

/**
 * Number of distinct parameters of the model an {@link ArchSpec} describes (a tied head is
 * counted once). Equals the sum of sizes of `model.parameters()`.
 */
export function countParams(spec: ArchSpec, options: CountParamsOptions = {}): number {
  const { dModel: C, nHead: H, nKvHead: Hkv, headDim: D, vocabSize: V } = spec;
  const qkv = C * (H + 2 * Hkv) * D + (spec.attnBias ? (H + 2 * Hkv) * D : 0);
  const proj = H * D * C + (spec.attnBias ? C : 0);
  const experts = spec.moe ? (options.activeOnly ? spec.moe.topK : spec.moe.numExperts) : 1;
  const ffn = spec.moe ? C * spec.moe.numExperts + experts * mlpParams(spec) : mlpParams(spec); // router + experts
  const perLayer = normParams(spec) * (spec.parallelBlock ? 1 : 2) + qkv + proj + ffn;
  let total = V * C + spec.nLayer * perLayer + normParams(spec);
  if (spec.positions === 'learned' && !options.nonEmbedding) total += spec.maxPositions * C;
  if (!spec.tieEmbeddings) total += V * C;
  if (spec.family === 'encoder') total += C * C + C + 2 * C + V; // MLM head: dense, LayerNorm, output bias
  return total;
}

/**
 * Training FLOPs per token (forward + backward) as nanoGPT's `estimate_mfu` and the PaLM paper
 * (appendix B) count them: `6·N + 12·L·H·D·T`, with N the non-embedding parameters a token
 * touches (active experts only for MoE) and T the sequence length (attention scores and values).
 *
 * @param seqLen Tokens per sequence T. Default the context length.
 */
export function flopsPerToken(spec: ArchSpec, seqLen = spec.maxPositions): number {
  const n = countParams(spec, { nonEmbedding: true, activeOnly: true });
  return 6 * n + 12 * spec.nLayer * spec.nHead * spec.headDim * seqLen;
}
