// Repetition penalty (CTRL, as in HF): a seen token's logit is divided by θ if positive, multiplied if negative.
import type { LogitsProcessor } from './processor.js';

/** Penalizes every token already present in the sequence (prompt included), once per distinct token. */
export function repetitionPenaltyProcessor(penalty: number): LogitsProcessor {
  return {
    name: 'repetition_penalty',
    process(logits, ctx) {
      if (penalty === 1) return;
      const seen = new Set<number>();
      for (let i = 0; i < ctx.ids.length; i++) seen.add(ctx.ids[i]);
      for (const id of seen) {
        if (id < 0 || id >= logits.length) continue;
        const l = logits[id];
        logits[id] = l > 0 ? l / penalty : l * penalty;
      }
    },
  };
}
