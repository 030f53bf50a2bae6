// Calibrated GPTQ quantization of a whole DecoderLM, layer by layer, each layer seeing the inputs the already-quantized layers produce.
import { createProgress, type ProgressMode } from '@lmkit/core';
import { Linear, type Block, type DecoderLM, type Module } from '@lmkit/model';
import { createRng, noGrad, scope, tensor, type Tensor } from '@lmkit/tensor';
import { InferError } from '../errors.js';
import { dequantize, QK, quantize, type QuantFormat, type QuantizedMatrix } from './formats.js';
import { addGramUpper, mirrorUpper } from './gptq-hessian.js';
import { gptqQuantizeMatrix } from './gptq-matrix.js';

/** Options of {@link gptqQuantize}. */
export interface GptqOptions {
  /** Block format. Default 'q4_0'. */
  format?: QuantFormat;
  /** Calibration sequences, drawn at random offsets of the calibration ids. Default 128 (the paper's). */
  samples?: number;
  /** Tokens per calibration sequence (at most the context). Default min(256, context). */
  seqLen?: number;
  /** Dampening λ (fraction of mean(diag H) added to the diagonal). Default 0.01. */
  damp?: number;
  /** Columns per lazy batch update, a multiple of 32. Default 128. */
  blockSize?: number;
  /** Pick each block's scale from a grid by the activation-weighted error (imatrix-style). Default false. */
  scaleSearch?: boolean;
  /** Quantize columns by decreasing H_jj with static block scales (GPTQ's act-order). Default false. */
  actOrder?: boolean;
  /**
   * A head tied to the embedding: 'gptq' quantizes the shared matrix last, with the head's Hessian
   * (final-norm outputs), so the embedding lookups use those values too; 'rtn' keeps it
   * round-to-nearest. Default 'gptq' (on the README's demo model it roughly halves the q4_0 loss).
   */
  tiedHead?: 'gptq' | 'rtn';
  /** Seed of the sequence offsets. Default 0. */
  seed?: number;
  /** Sequences per forward pass (memory vs. speed). Default 8. */
  batchSize?: number;
  /** Progress display (layer i of n). Default 'auto'. */
  progress?: ProgressMode;
}

/** How one weight matrix was quantized. */
export interface GptqLayerReport {
  /** Linear path (`blocks.0.attn.qkv`, `head`). */
  name: string;
  rows: number;
  cols: number;
  /** 'gptq', or 'rtn' (round-to-nearest) for a layer that saw no calibration tokens (an unrouted expert) or a tied head with `tiedHead: 'rtn'`. */
  method: 'gptq' | 'rtn';
  /** Calibration tokens that reached the layer. */
  tokens: number;
  /** The paper's loss Σ (w − q)² / (2·U_ii²), with H⁻¹ = UᵀU (0 for 'rtn'). */
  loss: number;
  /** Dampening used. */
  damp: number;
  /** Inputs that were zero on every calibration token. */
  deadInputs: number;
}

/** What {@link gptqQuantize} produced. */
export interface GptqResult {
  format: QuantFormat;
  /** Quantized weights by Linear path (`head` too), as {@link fromDecoderLM}'s `prequantized` takes them. */
  quantized: Map<string, QuantizedMatrix>;
  /** One report per quantized matrix, in order. */
  layers: GptqLayerReport[];
  /** Calibration sequences × tokens per sequence. */
  sequences: number;
  seqLen: number;
  /** Where the time went, in milliseconds (forward excludes the Hessian sums taken during it). */
  timings: { forwardMs: number; hessianMs: number; factorMs: number; sweepMs: number; totalMs: number };
}

function linearsOf(module: Module, prefix: string, out: Array<[string, Linear]> = []): Array<[string, Linear]> {
  if (module instanceof Linear) out.push([prefix, module]);
  for (const [name, child] of module.namedChildren()) linearsOf(child, `${prefix}.${name}`, out);
  return out;
}

/** Activations kept between layers: one (b, T, C) array per batch of sequences. */
interface Chunk {
  data: Float32Array;
  shape: [number, number, number];
}

/** Running Σ xxᵀ over a layer's inputs (upper triangle), summed in float64 from f32 GEMM partial sums. */
class HessianSum {
  readonly sum: Float64Array;
  tokens = 0;
  /** Milliseconds spent in {@link add}. */
  ms = 0;
  constructor(readonly n: number) {
    this.sum = new Float64Array(n * n);
  }
  add(x: Tensor): void {
    const t0 = performance.now();
    const rows = x.size / this.n;
    addGramUpper(this.sum, x.data() as Float32Array, rows, this.n);
    this.tokens += rows;
    this.ms += performance.now() - t0;
  }
  /** H = 2·Σxxᵀ / tokens. */
  hessian(): Float64Array {
    const scale = 2 / this.tokens;
    return mirrorUpper(this.sum.map((v) => v * scale), this.n);
  }
}

function calibrationWindows(ids: ArrayLike<number>, samples: number, seqLen: number, vocab: number, seed: number): Int32Array[] {
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (!(Number.isInteger(t) && t >= 0 && t < vocab)) throw new InferError('INFER_BAD_TOKEN', `gptq: calibration token ${t} at position ${i} is outside the vocabulary (${vocab})`, { hint: 'calibrate on shards made with the model\'s tokenizer' });
  }
  const rng = createRng(seed);
  return Array.from({ length: samples }, () => {
    const start = rng.int(ids.length - seqLen + 1);
    return Int32Array.from({ length: seqLen }, (_, j) => ids[start + j]);
  });
}

/**
 * GPTQ-quantizes every Linear layer of `model` (and an untied LM head) to q8_0/q4_0 on calibration
 * token ids (e.g. a training shard), block by block: each layer's Hessian 2XXᵀ/n comes from the
 * inputs produced by the layers already quantized before it (within a block too, in forward order).
 *
 * The model is changed in place to what the quantized file holds: every quantized weight is replaced by
 * its dequantized values. The token embedding is round-to-nearest while the blocks calibrate (as the file
 * would store it); a tied head then quantizes the shared matrix with GPTQ (see `tiedHead`).
 * Since each GPTQ block keeps an extreme code, {@link saveGgufModel} writes exactly these codes.
 * Layers whose input width is not a multiple of 32 stay f32, as in GGUF export.
 *
 * @example
 * const result = gptqQuantize(model, trainTokens, { format: 'q4_0', samples: 64 });
 * await saveGgufModel(model, 'out/model.gguf', 'q4_0', tokenizer);
 */
export function gptqQuantize(model: DecoderLM, calibrationIds: ArrayLike<number>, options: GptqOptions = {}): GptqResult {
  const format = options.format ?? 'q4_0';
  const samples = options.samples ?? 128;
  const batchSize = options.batchSize ?? 8;
  const spec = model.spec;
  const seqLen = Math.min(options.seqLen ?? Math.min(256, spec.maxPositions), calibrationIds.length);
  if (format !== 'q8_0' && format !== 'q4_0') throw new InferError('INFER_BAD_CONFIG', `gptq: format must be q8_0 or q4_0, got "${String(format)}"`);
  if (!(Number.isInteger(samples) && samples >= 1)) throw new InferError('INFER_BAD_CONFIG', `gptq: samples must be a positive integer, got ${samples}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new InferError('INFER_BAD_CONFIG', `gptq: batchSize must be a positive integer, got ${batchSize}`);
  if (options.seqLen !== undefined && !(Number.isInteger(options.seqLen) && options.seqLen >= 1)) throw new InferError('INFER_BAD_CONFIG', `gptq: seqLen must be a positive integer, got ${options.seqLen}`);
  if (seqLen < 1) throw new InferError('INFER_EMPTY_DATA', 'gptq: no calibration tokens', { hint: 'give a shard with training-like text' });
  if (seqLen > spec.maxPositions) throw new InferError('INFER_BAD_CONFIG', `gptq: seqLen ${seqLen} exceeds the context ${spec.maxPositions}`);
  const started = performance.now();
  const timings = { forwardMs: 0, hessianMs: 0, factorMs: 0, sweepMs: 0, totalMs: 0 };
  const windows = calibrationWindows(calibrationIds, samples, seqLen, spec.realVocabSize, options.seed ?? 0);
  model.eval();

  const quantized = new Map<string, QuantizedMatrix>();
  const layers: GptqLayerReport[] = [];
  const C = spec.dModel;
  const embedding = Float32Array.from(model.embed.weight.data() as Float32Array);
  const tiedGptq = !model.head && (options.tiedHead ?? 'gptq') === 'gptq' && C % QK === 0;
  if (C % QK === 0) {
    // The file stores the embedding quantized; calibrate on what the quantized model will see.
    const q = quantize(embedding, spec.vocabSize, C, format);
    model.setParameter('embed.weight', tensor(dequantize(q), [spec.vocabSize, C]));
    if (!model.head && !tiedGptq) {
      quantized.set('head', q);
      layers.push({ name: 'head', rows: spec.vocabSize, cols: C, method: 'rtn', tokens: 0, loss: 0, damp: 0, deadInputs: 0 });
    }
  }

  const blocks = model.blocks.items;
  const work = blocks.flatMap((block, l) => linearsOf(block, `blocks.${l}`).filter(([, lin]) => lin.inFeatures % QK === 0));
  const total = work.length + ((model.head || tiedGptq) && C % QK === 0 ? 1 : 0);
  const progress = createProgress({ label: 'gptq', total, unit: 'layer', mode: options.progress ?? 'auto' });

  /** Quantizes the (rows, cols) weight `w` of parameter `param` given its inputs' Hessian, and records it as `name`. */
  const quantizeWeight = (name: string, param: string, w: Float32Array, rows: number, cols: number, h: HessianSum): void => {
    let report: GptqLayerReport;
    let q: QuantizedMatrix;
    let values: Float32Array;
    if (h.tokens === 0) {
      q = quantize(w, rows, cols, format);
      values = dequantize(q);
      report = { name, rows, cols, method: 'rtn', tokens: 0, loss: 0, damp: 0, deadInputs: 0 };
    } else {
      const g = gptqQuantizeMatrix(w, rows, cols, h.hessian(), { format, scaleSearch: options.scaleSearch ?? false, actOrder: options.actOrder ?? false, ...(options.damp === undefined ? {} : { damp: options.damp }), ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }) });
      q = g.q;
      values = g.dequantized;
      report = { name, rows, cols, method: 'gptq', tokens: h.tokens, loss: g.loss, damp: g.damp, deadInputs: g.deadInputs };
      timings.factorMs += g.factorMs;
      timings.sweepMs += g.sweepMs;
    }
    model.setParameter(param, tensor(values, [rows, cols]));
    quantized.set(name, q);
    layers.push(report);
    progress.tick(1, { layer: name });
  };

  /** Runs `pass` as forward time, less the Hessian sums taken inside it. */
  const forward = <T>(pass: () => T, h?: HessianSum): T => {
    const t0 = performance.now();
    const before = h?.ms ?? 0;
    const out = pass();
    const hessianMs = (h?.ms ?? 0) - before;
    timings.hessianMs += hessianMs;
    timings.forwardMs += performance.now() - t0 - hessianMs;
    return out;
  };

  noGrad(() => {
    let chunks = forward(() => blockInputs(model, windows, batchSize));
    blocks.forEach((block, l) => {
      for (const [name, linear] of work.filter(([n]) => n.startsWith(`blocks.${l}.`))) {
        const h = new HessianSum(linear.inFeatures);
        forward(() => collectHessian(block, linear, chunks, h), h);
        quantizeWeight(name, `${name}.weight`, linear.weight.data() as Float32Array, linear.outFeatures, linear.inFeatures, h);
      }
      chunks = forward(() => chunks.map((c) => runBlock(block, c)));
    });
    if ((model.head || tiedGptq) && C % QK === 0) {
      const h = new HessianSum(C);
      forward(() => chunks.forEach((c) => scope(() => h.add(model.normF.forward(tensor(c.data, c.shape))))), h);
      if (model.head) quantizeWeight('head', 'head.weight', model.head.weight.data() as Float32Array, model.head.outFeatures, C, h);
      else quantizeWeight('head', 'embed.weight', embedding, spec.vocabSize, C, h); // tied: the f32 embedding, GPTQ'd for the head
    }
  });
  progress.stop();
  timings.totalMs = performance.now() - started;
  return { format, quantized, layers, sequences: windows.length, seqLen, timings };
}

/** Thrown by an input hook to end a block's forward pass at the layer being calibrated. */
const STOP = Symbol('gptq: layer input collected');

/**
 * Sums the Hessian of `linear`'s inputs over every chunk, running `block` only up to that layer: its
 * input is all GPTQ needs, so the hook ends the pass there (a Linear is called once per block pass).
 */
function collectHessian(block: Block, linear: Linear, chunks: Chunk[], h: HessianSum): void {
  const stop = (x: Tensor): void => {
    h.add(x);
    throw STOP;
  };
  withInputHook(linear, stop, () => {
    for (const c of chunks) {
      try {
        scope(() => void block.forward(tensor(c.data, c.shape), { positionOffset: 0 }));
      } catch (error) {
        if (error !== STOP) throw error;
      }
    }
  });
}

function runBlock(block: Block, c: Chunk): Chunk {
  return scope(() => ({ data: Float32Array.from(block.forward(tensor(c.data, c.shape), { positionOffset: 0 }).data() as Float32Array), shape: c.shape }));
}

/** Runs `body` while `linear` reports each input to `onInput`, then restores its own forward. */
function withInputHook(linear: Linear, onInput: (x: Tensor) => void, body: () => void): void {
  const own = Object.getOwnPropertyDescriptor(linear, 'forward');
  const previous = linear.forward;
  linear.forward = (x: Tensor) => {
    onInput(x);
    return previous.call(linear, x);
  };
  try {
    body();
  } finally {
    if (own) Object.defineProperty(linear, 'forward', own);
    else delete (linear as { forward?: unknown }).forward;
  }
}

/** The inputs of the first block for every batch of windows (the embeddings, as the model computes them). */
function blockInputs(model: DecoderLM, windows: Int32Array[], batchSize: number): Chunk[] {
  const blocks = model.blocks.items;
  const chunks: Chunk[] = [];
  // NOTE: every block passes its input through untouched, so hiddenStates yields the embedding output to block 0.
  const saved = blocks.map((b) => Object.getOwnPropertyDescriptor(b, 'forward'));
  const seen: { input: Chunk | null } = { input: null };
  blocks.forEach((b, i) => {
    b.forward = (x: Tensor) => {
      if (i === 0) seen.input = { data: Float32Array.from(x.data() as Float32Array), shape: [...x.shape] as [number, number, number] };
      return x;
    };
  });
  try {
    for (let s = 0; s < windows.length; s += batchSize) {
      const batch = windows.slice(s, s + batchSize);
      const T = batch[0].length;
      const ids = new Int32Array(batch.length * T);
      batch.forEach((w, i) => ids.set(w, i * T));
      scope(() => void model.hiddenStates(tensor(ids, [batch.length, T], { dtype: 'i32' })));
      if (!seen.input) throw new InferError('INFER_UNSUPPORTED_MODEL', 'gptq: the model did not run its first block');
      chunks.push(seen.input);
    }
  } finally {
    blocks.forEach((b, i) => {
      const own = saved[i];
      if (own) Object.defineProperty(b, 'forward', own);
      else delete (b as { forward?: unknown }).forward;
    });
  }
  return chunks;
}
