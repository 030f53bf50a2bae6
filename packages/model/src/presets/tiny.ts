// The tiny preset: the reference training config (byte-level vocab 256, d_model 128, 4 layers, 4 heads, context 128).
import type { GPT2Config } from '../config.js';

/** A 0.8M-parameter GPT-2-shaped model that trains in minutes on a CPU (nanoGPT's CPU recipe size). */
export const tiny: GPT2Config = {
  model_type: 'gpt2',
  vocab_size: 256,
  n_positions: 128,
  n_embd: 128,
  n_layer: 4,
  n_head: 4,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
};
