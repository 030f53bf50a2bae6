// A small LLaMA-style preset: RMSNorm, rotary positions, SwiGLU, grouped-query attention, untied head.
import type { LlamaConfig } from '../config.js';

/** About 6M parameters at vocab 256: width 256, 6 layers, 8 query / 2 key-value heads, SwiGLU 688, context 512. */
export const llamaLike: LlamaConfig = {
  model_type: 'llama',
  vocab_size: 256,
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 6,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
};
