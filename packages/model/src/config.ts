// Model configs: Hugging Face field names (GPT-2, LLaMA/Mixtral, a BERT-like encoder) with a default per field.

/** How positions enter the model: learned table (GPT-2), rotary (LLaMA) or ALiBi biases. */
export type PositionEmbedding = 'learned' | 'rope' | 'alibi';

/** Fields every config may carry (lmkit extensions; Hugging Face ignores them). */
export interface CommonConfigFields {
  /** Round `vocab_size` up to a multiple of this (nanoGPT pads 50257 → 50304 with 64). Default 1. */
  pad_vocab_multiple?: number;
  /** Run attention and MLP in parallel on the same normed input (GPT-J/PaLM). Default false. */
  parallel_block?: boolean;
  /** Experts per MoE layer; 0 = dense MLP (Mixtral name). Default 0 (8 for `mixtral`). */
  num_local_experts?: number;
  /** Experts each token is routed to (Mixtral name). Default 2. */
  num_experts_per_tok?: number;
  /** Weight of the load-balancing loss the trainer adds (Mixtral name). Default 0.001. */
  router_aux_loss_coef?: number;
  /** Std of the normal init of weights. Default 0.02. */
  initializer_range?: number;
  /** Share the token embedding with the output head. Default true for GPT-2/encoder, false for LLaMA. */
  tie_word_embeddings?: boolean;
}

/** GPT-2 config, field for field as in Hugging Face's GPT2Config (plus the common lmkit fields). */
export interface GPT2Config extends CommonConfigFields {
  /** Selects this config type. */
  model_type: 'gpt2';
  /** Token vocabulary size. Default 50257. */
  vocab_size?: number;
  /** Context length (learned position table size). Default 1024. */
  n_positions?: number;
  /** Model width. Default 768. */
  n_embd?: number;
  /** Transformer blocks. Default 12. */
  n_layer?: number;
  /** Attention heads (must divide n_embd). Default 12. */
  n_head?: number;
  /** MLP hidden width; null = 4·n_embd. Default null. */
  n_inner?: number | null;
  /** 'gelu_new' / 'gelu_pytorch_tanh' (tanh approximation) or 'gelu' (exact erf). Default 'gelu_new'. */
  activation_function?: 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu';
  /** Dropout on the residual branches. Default 0.1. */
  resid_pdrop?: number;
  /** Dropout on the embeddings. Default 0.1. */
  embd_pdrop?: number;
  /** Dropout on attention probabilities. Default 0.1. */
  attn_pdrop?: number;
  /** LayerNorm epsilon. Default 1e-5. */
  layer_norm_epsilon?: number;
  /** Biases in Linear layers and LayerNorms (nanoGPT's `bias`; false is not loadable by HF GPT-2). Default true. */
  bias?: boolean;
  /** Position scheme (lmkit extension; HF GPT-2 only knows 'learned'). Default 'learned'. */
  position_embedding?: PositionEmbedding;
  /** RoPE base when position_embedding is 'rope'. Default 10000. */
  rope_theta?: number;
}

/** LLaMA-family config (model_type 'llama' or 'mixtral'), field names as in Hugging Face's LlamaConfig/MixtralConfig. */
export interface LlamaConfig extends CommonConfigFields {
  /** Selects this config type; 'mixtral' defaults to 8 experts with top-2 routing. */
  model_type: 'llama' | 'mixtral';
  /** Token vocabulary size. Default 32000. */
  vocab_size?: number;
  /** Model width. Default 4096. */
  hidden_size?: number;
  /** SwiGLU hidden width. Default 11008. */
  intermediate_size?: number;
  /** Transformer blocks. Default 32. */
  num_hidden_layers?: number;
  /** Query heads (must divide hidden_size). Default 32. */
  num_attention_heads?: number;
  /** Key/value heads (must divide num_attention_heads; 1 = MQA); null = num_attention_heads. Default null. */
  num_key_value_heads?: number | null;
  /** Per-head width; null = hidden_size / num_attention_heads. Default null. */
  head_dim?: number | null;
  /** MLP activation inside SwiGLU: only 'silu'. Default 'silu'. */
  hidden_act?: 'silu';
  /** Context length. Default 2048. */
  max_position_embeddings?: number;
  /** RMSNorm epsilon. Default 1e-6. */
  rms_norm_eps?: number;
  /** RoPE base. Default 10000. */
  rope_theta?: number;
  /** RoPE scaling; only null (none) is supported. Default null. */
  rope_scaling?: null;
  /** Biases in q/k/v/o projections. Default false. */
  attention_bias?: boolean;
  /** Biases in the MLP projections. Default false. */
  mlp_bias?: boolean;
  /** Dropout on attention probabilities. Default 0. */
  attention_dropout?: number;
  /** Dropout on the residual branches (lmkit extension). Default 0. */
  hidden_dropout?: number;
  /** Position scheme (lmkit extension). Default 'rope'. */
  position_embedding?: PositionEmbedding;
}

/** Bidirectional pre-norm encoder for masked-LM denoising; BERT field names. */
export interface EncoderConfig extends CommonConfigFields {
  /** Selects this config type. */
  model_type: 'lmkit-encoder';
  /** Token vocabulary size. Default 30522. */
  vocab_size?: number;
  /** Model width. Default 768. */
  hidden_size?: number;
  /** Transformer blocks. Default 12. */
  num_hidden_layers?: number;
  /** Attention heads (must divide hidden_size). Default 12. */
  num_attention_heads?: number;
  /** MLP hidden width. Default 3072. */
  intermediate_size?: number;
  /** MLP activation: 'gelu' (exact), 'gelu_new' (tanh) or 'silu' (SwiGLU). Default 'gelu'. */
  hidden_act?: 'gelu' | 'gelu_new' | 'silu';
  /** Context length. Default 512. */
  max_position_embeddings?: number;
  /** LayerNorm epsilon. Default 1e-12. */
  layer_norm_eps?: number;
  /** Dropout on embeddings and residual branches. Default 0.1. */
  hidden_dropout_prob?: number;
  /** Dropout on attention probabilities. Default 0.1. */
  attention_probs_dropout_prob?: number;
  /** Position scheme. Default 'learned'. */
  position_embedding?: PositionEmbedding;
  /** RoPE base when position_embedding is 'rope'. Default 10000. */
  rope_theta?: number;
}

/** Any model config; `model_type` selects the class (see the registry). */
export type ModelConfig = GPT2Config | LlamaConfig | EncoderConfig;

/**
 * The architecture a config resolves to, after defaults, padding and validation. Modules are
 * built from this; it is what {@link countParams} and {@link flopsPerToken} read.
 */
export interface ArchSpec {
  /** Which config family produced it (selects the Hugging Face tensor names). */
  family: 'gpt2' | 'llama' | 'encoder';
  /** model_type as written in config.json. */
  modelType: string;
  /** Vocabulary size after padding. */
  vocabSize: number;
  /** Vocabulary size before padding (tokens the tokenizer can produce). */
  realVocabSize: number;
  /** Model width C. */
  dModel: number;
  /** Number of blocks L. */
  nLayer: number;
  /** Query heads H. */
  nHead: number;
  /** Key/value heads (H for MHA, 1 for MQA). */
  nKvHead: number;
  /** Per-head width D. */
  headDim: number;
  /** MLP hidden width. */
  dFf: number;
  /** Context length. */
  maxPositions: number;
  /** Normalization layer kind. */
  norm: 'layernorm' | 'rmsnorm';
  /** Normalization epsilon. */
  normEps: number;
  /** Position scheme. */
  positions: PositionEmbedding;
  /** RoPE base. */
  ropeTheta: number;
  /** MLP kind: GELU (tanh or exact) or SwiGLU. */
  mlp: 'gelu_tanh' | 'gelu' | 'swiglu';
  /** Biases in attention projections. */
  attnBias: boolean;
  /** Biases in MLP projections. */
  mlpBias: boolean;
  /** Biases in LayerNorms (ignored for RMSNorm). */
  normBias: boolean;
  /** Causal (decoder) or bidirectional (encoder) attention. */
  causal: boolean;
  /** Attention and MLP in parallel. */
  parallelBlock: boolean;
  /** Output head shares the embedding matrix. */
  tieEmbeddings: boolean;
  /** Dropout on embeddings. */
  embdDropout: number;
  /** Dropout on residual branches. */
  residDropout: number;
  /** Dropout on attention probabilities. */
  attnDropout: number;
  /** Init std. */
  initStd: number;
  /** Mixture-of-experts settings, or null for a dense MLP. */
  moe: { numExperts: number; topK: number; auxLossCoef: number } | null;
}
