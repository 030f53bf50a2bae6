// Temperature: divides logits by T (T < 1 sharpens, T > 1 flattens).
import type { LogitsProcessor } from './processor.js';

/** Divides every logit by `temperature` (> 0). */
export function temperatureProcessor(temperature: number): LogitsProcessor {
  return {
    name: 'temperature',
    process(logits) {
      if (temperature === 1) return;
      const inv = 1 / temperature;
      for (let i = 0; i < logits.length; i++) logits[i] *= inv;
    },
  };
}
