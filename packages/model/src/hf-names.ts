// Hugging Face tensor names and layouts ⇄ lmkit parameter names (GPT-2 Conv1D transposes, LLaMA/Mixtral split projections).
import type { ArchSpec } from './config.js';
import { ModelError } from './errors.js';

/** A host-side array with its shape: the unit of checkpoint conversion. */
export interface HostArray {
  /** Row-major values. */
  data: Float32Array;
  /** Dimensions, outermost first. */
  shape: number[];
}

/** How one Hugging Face tensor is made from one lmkit parameter. */
interface Rule {
  hf: string;
  ours: string;
  /** 'copy', 'transpose' (GPT-2 Conv1D stores (in, out)), or a row range of our fused matrix/vector. */
  op: 'copy' | 'transpose' | { rows: [number, number] };
}

function gpt2Rules(spec: ArchSpec): Rule[] {
  const rules: Rule[] = [{ hf: 'transformer.wte.weight', ours: 'embed.weight', op: 'copy' }];
  if (spec.positions === 'learned') rules.push({ hf: 'transformer.wpe.weight', ours: 'pos.weight', op: 'copy' });
  const bias = (r: Rule[]): Rule[] => (spec.attnBias ? r : r.filter((x) => !x.hf.endsWith('.bias')));
  for (let i = 0; i < spec.nLayer; i++) {
    const h = `transformer.h.${i}`;
    const b = `blocks.${i}`;
    rules.push(
      { hf: `${h}.ln_1.weight`, ours: `${b}.norm1.weight`, op: 'copy' },
      ...bias([{ hf: `${h}.ln_1.bias`, ours: `${b}.norm1.bias`, op: 'copy' }]),
      { hf: `${h}.attn.c_attn.weight`, ours: `${b}.attn.qkv.weight`, op: 'transpose' },
      ...bias([{ hf: `${h}.attn.c_attn.bias`, ours: `${b}.attn.qkv.bias`, op: 'copy' }]),
      { hf: `${h}.attn.c_proj.weight`, ours: `${b}.attn.proj.weight`, op: 'transpose' },
      ...bias([{ hf: `${h}.attn.c_proj.bias`, ours: `${b}.attn.proj.bias`, op: 'copy' }]),
    );
    if (!spec.parallelBlock) {
      rules.push({ hf: `${h}.ln_2.weight`, ours: `${b}.norm2.weight`, op: 'copy' }, ...bias([{ hf: `${h}.ln_2.bias`, ours: `${b}.norm2.bias`, op: 'copy' }]));
    }
    rules.push(...mlpRules(spec, `${h}.mlp`, `${b}`, 'gpt2'));
  }
  rules.push({ hf: 'transformer.ln_f.weight', ours: 'normF.weight', op: 'copy' }, ...bias([{ hf: 'transformer.ln_f.bias', ours: 'normF.bias', op: 'copy' }]));
  if (!spec.tieEmbeddings) rules.push({ hf: 'lm_head.weight', ours: 'head.weight', op: 'copy' });
  return rules;
}

function mlpRules(spec: ArchSpec, hf: string, ours: string, family: 'gpt2' | 'llama'): Rule[] {
  if (spec.moe) {
    const moeHf = hf.replace(/\.mlp$/, '.block_sparse_moe');
    const rules: Rule[] = [{ hf: `${moeHf}.gate.weight`, ours: `${ours}.moe.router.weight`, op: 'copy' }];
    for (let e = 0; e < spec.moe.numExperts; e++) {
      rules.push(...expertRules(spec, `${moeHf}.experts.${e}`, `${ours}.moe.experts.${e}`, 'mixtral'));
    }
    return rules;
  }
  if (spec.mlp === 'swiglu') return expertRules(spec, hf, `${ours}.mlp`, 'llama');
  const [fc, proj, op]: [string, string, Rule['op']] = family === 'gpt2' ? ['c_fc', 'c_proj', 'transpose'] : ['fc', 'proj', 'copy'];
  const rules: Rule[] = [
    { hf: `${hf}.${fc}.weight`, ours: `${ours}.mlp.fc.weight`, op },
    { hf: `${hf}.${proj}.weight`, ours: `${ours}.mlp.proj.weight`, op },
  ];
  if (spec.mlpBias) rules.push({ hf: `${hf}.${fc}.bias`, ours: `${ours}.mlp.fc.bias`, op: 'copy' }, { hf: `${hf}.${proj}.bias`, ours: `${ours}.mlp.proj.bias`, op: 'copy' });
  return rules;
}

/** SwiGLU projections: our fused fc is [gate; up] (2F, C), proj is down (C, F). */
function expertRules(spec: ArchSpec, hf: string, ours: string, names: 'llama' | 'mixtral'): Rule[] {
  const F = spec.dFf;
  if (spec.mlp !== 'swiglu') {
    // NOTE: GELU experts have no Hugging Face counterpart; keep lmkit names under the HF prefix.
    const rules: Rule[] = [
      { hf: `${hf}.fc.weight`, ours: `${ours}.fc.weight`, op: 'copy' },
      { hf: `${hf}.proj.weight`, ours: `${ours}.proj.weight`, op: 'copy' },
    ];
    if (spec.mlpBias) rules.push({ hf: `${hf}.fc.bias`, ours: `${ours}.fc.bias`, op: 'copy' }, { hf: `${hf}.proj.bias`, ours: `${ours}.proj.bias`, op: 'copy' });
    return rules;
  }
  const [gate, up, down] = names === 'llama' ? ['gate_proj', 'up_proj', 'down_proj'] : ['w1', 'w3', 'w2'];
  const rules: Rule[] = [
    { hf: `${hf}.${gate}.weight`, ours: `${ours}.fc.weight`, op: { rows: [0, F] } },
    { hf: `${hf}.${up}.weight`, ours: `${ours}.fc.weight`, op: { rows: [F, 2 * F] } },
    { hf: `${hf}.${down}.weight`, ours: `${ours}.proj.weight`, op: 'copy' },
  ];
  if (spec.mlpBias) {
    rules.push(
      { hf: `${hf}.${gate}.bias`, ours: `${ours}.fc.bias`, op: { rows: [0, F] } },
      { hf: `${hf}.${up}.bias`, ours: `${ours}.fc.bias`, op: { rows: [F, 2 * F] } },
      { hf: `${hf}.${down}.bias`, ours: `${ours}.proj.bias`, op: 'copy' },
    );
  }
  return rules;
}

function llamaRules(spec: ArchSpec): Rule[] {
  const rules: Rule[] = [{ hf: 'model.embed_tokens.weight', ours: 'embed.weight', op: 'copy' }];
  if (spec.positions === 'learned') rules.push({ hf: 'model.embed_positions.weight', ours: 'pos.weight', op: 'copy' });
  const q = spec.nHead * spec.headDim;
  const kv = spec.nKvHead * spec.headDim;
  for (let i = 0; i < spec.nLayer; i++) {
    const h = `model.layers.${i}`;
    const b = `blocks.${i}`;
    const proj: Array<[string, [number, number]]> = [['q_proj', [0, q]], ['k_proj', [q, q + kv]], ['v_proj', [q + kv, q + 2 * kv]]];
    rules.push({ hf: `${h}.input_layernorm.weight`, ours: `${b}.norm1.weight`, op: 'copy' });
    for (const [name, rows] of proj) {
      rules.push({ hf: `${h}.self_attn.${name}.weight`, ours: `${b}.attn.qkv.weight`, op: { rows } });
      if (spec.attnBias) rules.push({ hf: `${h}.self_attn.${name}.bias`, ours: `${b}.attn.qkv.bias`, op: { rows } });
    }
    rules.push({ hf: `${h}.self_attn.o_proj.weight`, ours: `${b}.attn.proj.weight`, op: 'copy' });
    if (spec.attnBias) rules.push({ hf: `${h}.self_attn.o_proj.bias`, ours: `${b}.attn.proj.bias`, op: 'copy' });
    if (!spec.parallelBlock) rules.push({ hf: `${h}.post_attention_layernorm.weight`, ours: `${b}.norm2.weight`, op: 'copy' });
    rules.push(...mlpRules(spec, `${h}.mlp`, b, 'llama'));
  }
  rules.push({ hf: 'model.norm.weight', ours: 'normF.weight', op: 'copy' });
  if (!spec.tieEmbeddings) rules.push({ hf: 'lm_head.weight', ours: 'head.weight', op: 'copy' });
  return rules;
}

function rulesFor(spec: ArchSpec): Rule[] | null {
  if (spec.family === 'gpt2') return gpt2Rules(spec);
  if (spec.family === 'llama') return llamaRules(spec);
  return null; // the encoder has no Hugging Face counterpart: lmkit names are stored as they are
}

function transpose2d(a: HostArray): HostArray {
  const [r, c] = a.shape as [number, number];
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a.data[i * c + j]!;
  return { data: out, shape: [c, r] };
}

function rowsOf(a: HostArray, [start, end]: [number, number]): HostArray {
  const width = a.shape.length > 1 ? a.data.length / a.shape[0]! : 1;
  return { data: a.data.slice(start * width, end * width), shape: [end - start, ...a.shape.slice(1)] };
}

/**
 * Converts lmkit parameters (by lmkit name) to the tensors a Hugging Face checkpoint of the
 * same architecture holds (GPT2LMHeadModel, LlamaForCausalLM, MixtralForCausalLM names and
 * layouts). A tied head is not written, as transformers' save_pretrained does.
 */
export function toHuggingFace(spec: ArchSpec, params: Map<string, HostArray>): Map<string, HostArray> {
  const rules = rulesFor(spec);
  if (!rules) return new Map(params);
  const out = new Map<string, HostArray>();
  for (const rule of rules) {
    const src = params.get(rule.ours);
    if (!src) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `parameter "${rule.ours}" (for "${rule.hf}") is missing`, { details: { key: rule.ours } });
    out.set(rule.hf, rule.op === 'copy' ? { data: src.data, shape: [...src.shape] } : rule.op === 'transpose' ? transpose2d(src) : rowsOf(src, rule.op.rows));
  }
  return out;
}

/** Buffers Hugging Face checkpoints carry that are not parameters (causal-mask and RoPE caches). */
const IGNORED_HF = [/(^|\.)attn\.bias$/, /(^|\.)attn\.masked_bias$/, /\.rotary_emb\.inv_freq$/];

/** True for Hugging Face buffers that loading skips (GPT-2 `attn.bias`/`attn.masked_bias`, RoPE `inv_freq`). */
export function isIgnoredHfTensor(name: string): boolean {
  return IGNORED_HF.some((re) => re.test(name));
}

/**
 * Converts the tensors of a Hugging Face checkpoint to lmkit parameters. Accepts GPT-2 names
 * with or without the `transformer.` prefix (GPT2Model vs GPT2LMHeadModel), skips the
 * `attn.bias`/`attn.masked_bias`/`rotary_emb.inv_freq` buffers and an `lm_head.weight` that
 * duplicates a tied embedding. Unknown tensors and missing ones are errors naming the key;
 * shapes are checked by the model's `loadStateDict`.
 *
 * @param expectedShapes lmkit parameter shapes (from the model), used to size fused tensors.
 */
export function fromHuggingFace(spec: ArchSpec, tensors: Map<string, HostArray>, expectedShapes: Map<string, number[]>, source = 'checkpoint'): Map<string, HostArray> {
  const rules = rulesFor(spec);
  if (!rules) return new Map(tensors);
  const byHf = new Map(rules.map((r) => [r.hf, r]));
  const seen = new Set<string>();
  const out = new Map<string, HostArray>();
  for (const [rawName, array] of tensors) {
    let name = rawName;
    if (spec.family === 'gpt2' && !name.startsWith('transformer.') && name !== 'lm_head.weight') name = `transformer.${name}`;
    if (isIgnoredHfTensor(name)) continue;
    if (name === 'lm_head.weight' && spec.tieEmbeddings) continue;
    const rule = byHf.get(name);
    if (!rule) {
      throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: unexpected tensor "${rawName}" for a ${spec.modelType} model with ${spec.nLayer} layers`, {
        hint: 'the checkpoint and config.json describe different architectures', details: { key: rawName },
      });
    }
    seen.add(name);
    if (rule.op === 'copy') {
      out.set(rule.ours, array);
      continue;
    }
    if (rule.op === 'transpose') {
      if (array.shape.length !== 2) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: "${rawName}" has shape ${JSON.stringify(array.shape)}, expected 2-D`, { details: { key: rawName } });
      out.set(rule.ours, transpose2d(array));
      continue;
    }
    const shape = expectedShapes.get(rule.ours);
    if (!shape) throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: model has no parameter "${rule.ours}" for "${rawName}"`, { details: { key: rawName } });
    let target = out.get(rule.ours);
    if (!target) {
      target = { data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape: [...shape] };
      out.set(rule.ours, target);
    }
    const width = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const [start, end] = rule.op.rows;
    const want = [end - start, ...shape.slice(1)];
    if (array.shape.length !== want.length || array.shape.some((d, k) => d !== want[k])) {
      throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: "${rawName}" has shape ${JSON.stringify(array.shape)}, expected ${JSON.stringify(want)}`, {
        hint: 'check num_attention_heads / num_key_value_heads / intermediate_size in config.json', details: { key: rawName },
      });
    }
    target.data.set(array.data, start * width);
  }
  for (const rule of rules) {
    if (!seen.has(rule.hf)) {
      throw new ModelError('MODEL_STATE_DICT_MISMATCH', `${source}: missing tensor "${rule.hf}"`, { hint: 'the checkpoint is incomplete or for another architecture', details: { key: rule.hf } });
    }
  }
  return out;
}

/** The Hugging Face `architectures` entry for a spec (written into config.json). */
export function hfArchitecture(spec: ArchSpec): string {
  if (spec.family === 'gpt2') return 'GPT2LMHeadModel';
  if (spec.family === 'llama') return spec.moe ? 'MixtralForCausalLM' : 'LlamaForCausalLM';
  return 'LmkitEncoderForMaskedLM';
}
