// Min-p: forbids tokens whose probability is below min_p times the most likely token's probability.
import { softmaxRow, type LogitsProcessor } from './processor.js';

/** Min-p filtering (0 disables); the top token always survives. */
export function minPProcessor(minP: number): LogitsProcessor {
  return {
    name: 'min_p',
    process(logits) {
      if (minP <= 0) return;
      const probs = softmaxRow(logits);
      let top = 0;
      for (let i = 0; i < probs.length; i++) if (probs[i] > top) top = probs[i];
      const threshold = minP * top;
      for (let i = 0; i < probs.length; i++) if (probs[i] < threshold) logits[i] = -Infinity;
    },
  };
}
