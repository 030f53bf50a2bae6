// The GPT-2 small preset (124M parameters), with the vocabulary padded to 50304 as nanoGPT and llm.c do.
import type { GPT2Config } from '../config.js';

/** GPT-2 124M: 12 layers, 12 heads, width 768, context 1024, vocab 50257 padded to a multiple of 64. */
export const gpt2_124m: GPT2Config = {
  model_type: 'gpt2',
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  pad_vocab_multiple: 64,
};
