// Saving a DecoderLM as a quantized GGUF file with llama.cpp's tensor names, and loading one back.
import { DecoderLM, type ArchSpec } from '@lmkit/model';
import { f16ToF32, f32ToF16, tensor } from '@lmkit/tensor';
import { toHfTokenizerJson, type Tokenizer } from '@lmkit/tokenizer';
import { InferError } from '../errors.js';
import { dequantize, QK, quantize, type QuantFormat, type QuantizedMatrix } from './formats.js';
import { concatRows, fromGgmlBlocks, sliceRows, toGgmlBlocks } from './ggml-blocks.js';
import { GGML_TYPE, readGguf, writeGguf, type GgufTensor, type GgufValue } from './gguf.js';

/** How {@link saveGgufModel} stores weight matrices: unquantized f32/f16 (as convert_hf_to_gguf.py does) or q8_0/q4_0 blocks. */
export type GgufWeightFormat = QuantFormat | 'f32' | 'f16';

/** llama.cpp's `general.file_type` (enum llama_ftype) for each weight format. */
const FILE_TYPE: Record<GgufWeightFormat, number> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

/** How one GGUF tensor relates to one of our parameters. */
interface TensorRule {
  gguf: string;
  ours: string;
  /** Quantize (2-D weights of linear layers and the embedding) or keep f32 (norms, biases, positions). */
  quantize: boolean;
  /** A row range of our fused matrix (q/k/v of qkv, gate/up of a SwiGLU fc). */
  rows?: [number, number];
  /** llama.cpp's q/k row permutation for RoPE with this many heads. */
  permuteHeads?: number;
  /** One row per vocabulary id: the file holds the real vocabulary's rows, the model the padded ones. */
  vocabRows?: boolean;
}

/** The llama.cpp architecture name and tensor rules for a spec, or an error naming what does not fit. */
function rulesFor(spec: ArchSpec): { arch: 'gpt2' | 'llama'; rules: TensorRule[] } {
  const misfit = (why: string): never => {
    throw new InferError('INFER_UNSUPPORTED_MODEL', `GGUF export supports GPT-2 and LLaMA shapes as llama.cpp runs them; this model ${why}`, { hint: 'use a gpt2 or llama preset, or quantize on load with --quantize' });
  };
  if (spec.moe) misfit('has MoE layers');
  if (spec.parallelBlock) misfit('uses parallel attention/MLP blocks');
  const rules: TensorRule[] = [{ gguf: 'token_embd.weight', ours: 'embed.weight', quantize: true, vocabRows: true }];
  // NOTE: a tied head has no output.weight; llama.cpp (like convert_hf_to_gguf.py) falls back to token_embd.
  const head: TensorRule[] = spec.tieEmbeddings ? [] : [{ gguf: 'output.weight', ours: 'head.weight', quantize: true, vocabRows: true }];
  if (spec.family === 'gpt2') {
    if (spec.positions !== 'learned' || spec.norm !== 'layernorm' || spec.mlp === 'swiglu' || !spec.attnBias || !spec.mlpBias || !spec.normBias) misfit('is a GPT-2 variant (positions, norms, MLP or biases differ)');
    rules.push({ gguf: 'position_embd.weight', ours: 'pos.weight', quantize: false });
    for (let i = 0; i < spec.nLayer; i++) {
      const b = `blocks.${i}`;
      const g = `blk.${i}`;
      rules.push(
        { gguf: `${g}.attn_norm.weight`, ours: `${b}.norm1.weight`, quantize: false },
        { gguf: `${g}.attn_norm.bias`, ours: `${b}.norm1.bias`, quantize: false },
        { gguf: `${g}.attn_qkv.weight`, ours: `${b}.attn.qkv.weight`, quantize: true },
        { gguf: `${g}.attn_qkv.bias`, ours: `${b}.attn.qkv.bias`, quantize: false },
        { gguf: `${g}.attn_output.weight`, ours: `${b}.attn.proj.weight`, quantize: true },
        { gguf: `${g}.attn_output.bias`, ours: `${b}.attn.proj.bias`, quantize: false },
        { gguf: `${g}.ffn_norm.weight`, ours: `${b}.norm2.weight`, quantize: false },
        { gguf: `${g}.ffn_norm.bias`, ours: `${b}.norm2.bias`, quantize: false },
        { gguf: `${g}.ffn_up.weight`, ours: `${b}.mlp.fc.weight`, quantize: true },
        { gguf: `${g}.ffn_up.bias`, ours: `${b}.mlp.fc.bias`, quantize: false },
        { gguf: `${g}.ffn_down.weight`, ours: `${b}.mlp.proj.weight`, quantize: true },
        { gguf: `${g}.ffn_down.bias`, ours: `${b}.mlp.proj.bias`, quantize: false },
      );
    }
    rules.push({ gguf: 'output_norm.weight', ours: 'normF.weight', quantize: false }, { gguf: 'output_norm.bias', ours: 'normF.bias', quantize: false });
    rules.push(...head);
    return { arch: 'gpt2', rules };
  }
  if (spec.family !== 'llama' || spec.positions !== 'rope' || spec.norm !== 'rmsnorm' || spec.mlp !== 'swiglu' || spec.attnBias || spec.mlpBias) misfit('is not a LLaMA shape (RoPE, RMSNorm, SwiGLU, no biases)');
  const q = spec.nHead * spec.headDim;
  const kv = spec.nKvHead * spec.headDim;
  for (let i = 0; i < spec.nLayer; i++) {
    const b = `blocks.${i}`;
    const g = `blk.${i}`;
    rules.push(
      { gguf: `${g}.attn_norm.weight`, ours: `${b}.norm1.weight`, quantize: false },
      { gguf: `${g}.attn_q.weight`, ours: `${b}.attn.qkv.weight`, quantize: true, rows: [0, q], permuteHeads: spec.nHead },
      { gguf: `${g}.attn_k.weight`, ours: `${b}.attn.qkv.weight`, quantize: true, rows: [q, q + kv], permuteHeads: spec.nKvHead },
      { gguf: `${g}.attn_v.weight`, ours: `${b}.attn.qkv.weight`, quantize: true, rows: [q + kv, q + 2 * kv] },
      { gguf: `${g}.attn_output.weight`, ours: `${b}.attn.proj.weight`, quantize: true },
      { gguf: `${g}.ffn_norm.weight`, ours: `${b}.norm2.weight`, quantize: false },
      { gguf: `${g}.ffn_gate.weight`, ours: `${b}.mlp.fc.weight`, quantize: true, rows: [0, spec.dFf] },
      { gguf: `${g}.ffn_up.weight`, ours: `${b}.mlp.fc.weight`, quantize: true, rows: [spec.dFf, 2 * spec.dFf] },
      { gguf: `${g}.ffn_down.weight`, ours: `${b}.mlp.proj.weight`, quantize: true },
    );
  }
  rules.push({ gguf: 'output_norm.weight', ours: 'normF.weight', quantize: false });
  rules.push(...head);
  return { arch: 'llama', rules };
}

/**
 * llama.cpp's RoPE pairs dims (2i, 2i+1) of a head; Hugging Face (and lmkit) rotate halves (i, i+D/2).
 * Reordering each head's rows as convert_hf_to_gguf.py does makes the two agree; `inverse` undoes it.
 */
function permuteRows(data: Float32Array, rows: number, cols: number, heads: number, inverse: boolean): Float32Array {
  const out = new Float32Array(data.length);
  const d = rows / heads;
  const half = d / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (const part of [0, 1]) {
        const hfRow = h * d + part * half + i; // half-rotation layout
        const ggRow = h * d + 2 * i + part; // interleaved layout
        const [src, dst] = inverse ? [ggRow, hfRow] : [hfRow, ggRow];
        out.set(data.subarray(src * cols, src * cols + cols), dst * cols);
      }
  return out;
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function rowsOf(data: Float32Array, cols: number, [start, end]: [number, number]): Float32Array {
  return data.slice(start * cols, end * cols);
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/**
 * llama.cpp's name (`tokenizer.ggml.pre`) for the split regex it runs in place of `pattern`: 'gpt-2' for
 * GPT-2/r50k/p50k, 'llama-bpe' for cl100k (and minbpe's GPT-4 pattern), 'gpt-4o' for o200k. NOTE: llama.cpp
 * has no way to take an arbitrary regex; other patterns get the closest of these three.
 */
function preTokenizerName(pattern: string): string {
  if (pattern.includes('[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]')) return 'gpt-4o';
  if (pattern.includes('\\p{N}{1,3}')) return 'llama-bpe';
  return 'gpt-2';
}

function tokenizerMetadata(tokenizer: Tokenizer, vocabRows: number): Map<string, GgufValue> {
  const hf = toHfTokenizerJson(tokenizer) as { model: { vocab: Record<string, number>; merges: [string, string][] }; added_tokens: { id: number; content: string }[] };
  const tokens: string[] = Array.from({ length: vocabRows }, (_, id) => `<|reserved_${id}|>`);
  const types: number[] = new Array(vocabRows).fill(5); // 5 = unused
  for (const [text, id] of Object.entries(hf.model.vocab)) if (id < vocabRows) (tokens[id] = text), (types[id] = 1); // 1 = normal
  for (const { id, content } of hf.added_tokens) if (id < vocabRows) (tokens[id] = content), (types[id] = tokenizer.specialTokens.has(content) ? 3 : 5); // 3 = control
  const eot = tokenizer.specialTokens.get('<|endoftext|>');
  const meta = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: preTokenizerName(tokenizer.pattern) }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'i32', value: types }],
    ['tokenizer.ggml.merges', { type: 'array', itemType: 'string', value: hf.model.merges.map(([a, b]) => `${a} ${b}`) }],
  ]);
  if (eot !== undefined) {
    meta.set('tokenizer.ggml.eos_token_id', { type: 'u32', value: eot });
    meta.set('tokenizer.ggml.bos_token_id', { type: 'u32', value: eot });
  }
  // lmkit's prompts carry no BOS/EOS (documents are separated by <|endoftext|> in the data instead).
  meta.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: false });
  meta.set('tokenizer.ggml.add_eos_token', { type: 'bool', value: false });
  meta.set('lmkit.tokenizer.pattern', { type: 'string', value: tokenizer.pattern });
  return meta;
}

/**
 * Writes `model` as a GGUF file: linear weights and the token embedding in `format` (for q8_0/q4_0,
 * tensors whose rows are not a multiple of 32 long stay f32, as llama.cpp does), norms/biases/positions in f32,
 * llama.cpp's names and hyperparameter keys, the tokenizer's vocabulary and merges when given, and
 * lmkit's own config under `lmkit.config` so the model is rebuilt exactly.
 */
export async function saveGgufModel(model: DecoderLM, path: string, format: GgufWeightFormat, tokenizer?: Tokenizer): Promise<{ bytes: number; quantized: number; f32: number }> {
  const spec = model.spec;
  const { arch, rules } = rulesFor(spec);
  const params = new Map(model.namedParameters());
  const tensors: GgufTensor[] = [];
  let quantized = 0;
  for (const rule of rules) {
    const p = params.get(rule.ours);
    if (!p) throw new InferError('INFER_UNSUPPORTED_MODEL', `parameter ${rule.ours} (for ${rule.gguf}) is missing`);
    let data = p.data() as Float32Array;
    let shape = [...p.shape];
    const rows = rule.rows ?? (rule.vocabRows ? ([0, spec.realVocabSize] as [number, number]) : null);
    if (rows) {
      data = rowsOf(data, shape[1], rows);
      shape = [rows[1] - rows[0], shape[1]];
    }
    if (rule.permuteHeads) data = permuteRows(data, shape[0], shape[1], rule.permuteHeads, false);
    const dims = [...shape].reverse(); // GGUF lists the innermost dimension first
    if (rule.quantize && format === 'f16') tensors.push({ name: rule.gguf, dims, type: GGML_TYPE.F16, data: new Uint8Array(f32ToF16(data).buffer) });
    else if (rule.quantize && (format === 'q8_0' || format === 'q4_0') && shape.length === 2 && shape[1] % QK === 0) {
      tensors.push({ name: rule.gguf, dims, type: format === 'q8_0' ? GGML_TYPE.Q8_0 : GGML_TYPE.Q4_0, data: toGgmlBlocks(quantize(data, shape[0], shape[1], format)) });
      quantized++;
    } else tensors.push({ name: rule.gguf, dims, type: GGML_TYPE.F32, data: f32Bytes(Float32Array.from(data)) });
  }
  const a = arch;
  const meta = new Map<string, GgufValue>([
    ['general.architecture', { type: 'string', value: a }],
    ['general.name', { type: 'string', value: `lmkit-${spec.modelType}` }],
    ['general.file_type', { type: 'u32', value: FILE_TYPE[format] }],
    ['general.quantization_version', { type: 'u32', value: 2 }],
    [`${a}.context_length`, { type: 'u32', value: spec.maxPositions }],
    [`${a}.embedding_length`, { type: 'u32', value: spec.dModel }],
    [`${a}.feed_forward_length`, { type: 'u32', value: spec.dFf }],
    [`${a}.block_count`, { type: 'u32', value: spec.nLayer }],
    [`${a}.attention.head_count`, { type: 'u32', value: spec.nHead }],
  ]);
  if (a === 'gpt2') meta.set('gpt2.attention.layer_norm_epsilon', { type: 'f32', value: spec.normEps });
  else {
    meta.set('llama.attention.head_count_kv', { type: 'u32', value: spec.nKvHead });
    meta.set('llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: spec.normEps });
    meta.set('llama.rope.freq_base', { type: 'f32', value: spec.ropeTheta });
    meta.set('llama.rope.dimension_count', { type: 'u32', value: spec.headDim });
    meta.set('llama.vocab_size', { type: 'u32', value: spec.realVocabSize });
  }
  if (tokenizer) for (const [k, v] of tokenizerMetadata(tokenizer, spec.realVocabSize)) meta.set(k, v);
  meta.set('lmkit.config', { type: 'string', value: JSON.stringify(model.config) });
  const file = { metadata: meta, tensors };
  await writeGguf(path, file);
  const { statSync } = await import('node:fs');
  return { bytes: statSync(path).size, quantized, f32: tensors.filter((t) => t.type === GGML_TYPE.F32).length };
}

/** A GGUF model loaded back: the model (weights dequantized to f32) and its quantized linear weights by layer name. */
export interface LoadedGgufModel {
  model: DecoderLM;
  /** The block format of the quantized weights, or null for an f32/f16 file. */
  format: QuantFormat | null;
  /** Quantized weights keyed by our Linear module path (e.g. `blocks.0.attn.qkv`), plus `head` for the output matrix. */
  quantized: Map<string, QuantizedMatrix>;
}

/** Loads a GGUF written by {@link saveGgufModel} (it needs the `lmkit.config` key). */
export async function loadGgufModel(path: string): Promise<LoadedGgufModel> {
  const file = await readGguf(path);
  const configValue = file.metadata.get('lmkit.config');
  if (configValue?.type !== 'string') throw new InferError('INFER_BAD_GGUF', `${path}: no lmkit.config key; lmkit loads the GGUF files it wrote`, { hint: 'quantize an lmkit checkpoint with `lmkit quantize`' });
  const model = new DecoderLM(JSON.parse(configValue.value), { skipInit: true });
  const { rules } = rulesFor(model.spec);
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const params = new Map(model.namedParameters());
  const parts = new Map<string, { rule: TensorRule; f32: Float32Array; q: QuantizedMatrix | null }[]>();
  let format: QuantFormat | null = null;
  let tiedHead: QuantizedMatrix | null = null;
  const spec = model.spec;
  // NOTE: files written before the real-vocabulary cut store a tied head as output.weight, padded rows included.
  if (spec.tieEmbeddings && byName.has('output.weight')) rules.push({ gguf: 'output.weight', ours: 'embed.weight', quantize: true, vocabRows: true });
  for (const rule of rules) {
    const t = byName.get(rule.gguf);
    if (!t) throw new InferError('INFER_BAD_GGUF', `${path}: tensor ${rule.gguf} is missing`);
    const shape = [...t.dims].reverse();
    let q: QuantizedMatrix | null = null;
    let f32: Float32Array;
    if (t.type === GGML_TYPE.F32) f32 = new Float32Array(t.data.slice().buffer);
    else if (t.type === GGML_TYPE.F16) f32 = f16ToF32(new Uint16Array(t.data.slice().buffer));
    else if (t.type === GGML_TYPE.Q8_0 || t.type === GGML_TYPE.Q4_0) {
      format = t.type === GGML_TYPE.Q8_0 ? 'q8_0' : 'q4_0';
      q = fromGgmlBlocks(t.data, shape[0], shape[1], format);
      f32 = dequantize(q);
    } else throw new InferError('INFER_BAD_GGUF', `${path}: tensor ${rule.gguf} has ggml type ${t.type}; lmkit reads F32, F16, Q8_0 and Q4_0`);
    if (rule.permuteHeads) {
      f32 = permuteRows(f32, shape[0], shape[1], rule.permuteHeads, true);
      if (q) q = quantizedPermute(q, rule.permuteHeads);
    }
    if (rule.vocabRows && shape[0] < spec.vocabSize) {
      // The padding rows (never an input or a target) come back as zeros, as from a safetensors checkpoint.
      const pad = spec.vocabSize - shape[0];
      f32 = concatFloat([f32, new Float32Array(pad * shape[1])]);
      if (q) q = concatRows([q, quantize(new Float32Array(pad * shape[1]), pad, shape[1], q.format)]);
    }
    if (rule.ours === 'embed.weight' && spec.tieEmbeddings && q) tiedHead = q; // the tied head computes on the embedding's codes
    if (rule.gguf === 'output.weight' && spec.tieEmbeddings) continue;
    const list = parts.get(rule.ours) ?? [];
    list.push({ rule, f32, q });
    parts.set(rule.ours, list);
  }
  const quantized = new Map<string, QuantizedMatrix>();
  for (const [ours, list] of parts) {
    const p = params.get(ours);
    if (!p) throw new InferError('INFER_BAD_GGUF', `${path}: the config has no parameter ${ours}`);
    const f32 = list.length === 1 ? list[0].f32 : concatFloat(list.map((x) => x.f32));
    if (f32.length !== p.size) throw new InferError('INFER_BAD_GGUF', `${path}: ${ours} has ${f32.length} values, the config needs ${p.size}`);
    model.setParameter(ours, tensor(f32, [...p.shape]));
    const qs = list.map((x) => x.q);
    if (ours !== 'embed.weight' && qs.every((x) => x !== null)) quantized.set(ours.replace(/\.weight$/, ''), qs.length === 1 ? qs[0]! : concatRows(qs as QuantizedMatrix[]));
  }
  if (tiedHead) quantized.set('head', tiedHead);
  return { model, format, quantized };
}

/** Undoes llama.cpp's RoPE row permutation on a quantized matrix (rows move whole, so codes are kept exactly). */
function quantizedPermute(q: QuantizedMatrix, heads: number): QuantizedMatrix {
  const d = q.rows / heads;
  const half = d / 2;
  const rows: QuantizedMatrix[] = new Array(q.rows);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (const part of [0, 1]) rows[h * d + part * half + i] = sliceRows(q, h * d + 2 * i + part, h * d + 2 * i + part + 1);
  return concatRows(rows);
}
