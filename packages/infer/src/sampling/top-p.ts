// Top-p (nucleus): keeps the smallest set of most likely tokens whose probabilities sum to ≥ p.
import { softmaxRow, type LogitsProcessor } from './processor.js';

/** Nucleus filtering; always keeps at least `minTokensToKeep` tokens (default 1). */
export function topPProcessor(p: number, minTokensToKeep = 1): LogitsProcessor {
  return {
    name: 'top_p',
    process(logits) {
      if (p >= 1) return;
      const probs = softmaxRow(logits);
      const order = Array.from(probs.keys()).filter((i) => probs[i] > 0);
      order.sort((a, b) => probs[b] - probs[a] || a - b);
      let mass = 0;
      let keep = 0;
      while (keep < order.length && (mass < p || keep < minTokensToKeep)) mass += probs[order[keep++]];
      for (let r = keep; r < order.length; r++) logits[order[r]] = -Infinity;
    },
  };
}
