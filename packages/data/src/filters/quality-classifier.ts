// Classifier-based quality filter: logistic regression on hashed word n-grams, trained from labelled good/bad texts, saved as a binary file.
import { readFile } from 'node:fs/promises';
import { atomicWriteFile } from '@lmkit/core';
import { DataError } from '../errors.js';
import { fnv1a32 } from '../text/hash.js';
import { splitWords } from '../text/words.js';
import { drop, type Document, type Drop, type Step } from '../types.js';

/** Options of {@link QualityClassifier.train}. */
export interface ClassifierOptions {
  /** log2 of the number of hashed features. Default 18 (262 144 weights, 1 MiB). */
  bits?: number;
  /** Word n-gram orders used as features. Default 2 (unigrams + bigrams). */
  maxN?: number;
  /** SGD epochs. Default 5. */
  epochs?: number;
  /** Initial learning rate (decays as lr / (1 + epoch)). Default 0.5. */
  learningRate?: number;
  /** L2 penalty per step. Default 1e-6. */
  l2?: number;
  /** Shuffle seed. Default 0. */
  seed?: number;
}

const MAGIC = 'LMKQC1\n';

/** Hashed feature indices of a text (lowercased words; n-grams joined by a space), unique per text. */
export function hashedFeatures(text: string, bits: number, maxN: number): Uint32Array {
  const words = splitWords(text.toLowerCase());
  const mask = (1 << bits) - 1;
  const set = new Set<number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const gram = n === 1 ? words[i] : words.slice(i, i + n).join(' ');
      set.add((fnv1a32(gram) ^ Math.imul(n, 0x9e3779b1)) & mask);
    }
  }
  return Uint32Array.from(set);
}

/**
 * A binary logistic-regression classifier over hashed n-gram features (each present feature has value
 * 1/√(number of features), so long and short documents are comparable). `score` is P(good).
 */
export class QualityClassifier {
  private constructor(
    readonly bits: number,
    readonly maxN: number,
    private readonly weights: Float32Array,
    private bias: number,
  ) {}

  /** Trains with SGD on log-loss. `examples` are texts with label 1 (good) or 0 (bad). */
  static train(examples: ReadonlyArray<{ text: string; label: 0 | 1 }>, options: ClassifierOptions = {}): QualityClassifier {
    const bits = options.bits ?? 18;
    const maxN = options.maxN ?? 2;
    const model = new QualityClassifier(bits, maxN, new Float32Array(1 << bits), 0);
    const feats = examples.map((e) => hashedFeatures(e.text, bits, maxN));
    const order = examples.map((_, i) => i);
    let s = (options.seed ?? 0) >>> 0;
    const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const epochs = options.epochs ?? 5;
    const l2 = options.l2 ?? 1e-6;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const lr = (options.learningRate ?? 0.5) / (1 + epoch);
      for (const idx of order) {
        const f = feats[idx];
        const v = 1 / Math.sqrt(Math.max(1, f.length));
        const p = model.probability(f);
        const g = p - examples[idx].label;
        for (const k of f) model.weights[k] -= lr * (g * v + l2 * model.weights[k]);
        model.bias -= lr * g;
      }
    }
    return model;
  }

  private probability(f: Uint32Array): number {
    const v = 1 / Math.sqrt(Math.max(1, f.length));
    let z = this.bias;
    for (const k of f) z += this.weights[k] * v;
    return 1 / (1 + Math.exp(-z));
  }

  /** P(good) for a text. */
  score(text: string): number {
    return this.probability(hashedFeatures(text, this.bits, this.maxN));
  }

  /** Writes `LMKQC1\n` + a JSON header line + the float32 weights (little-endian), atomically. */
  async save(path: string): Promise<void> {
    const header = Buffer.from(`${MAGIC}${JSON.stringify({ bits: this.bits, maxN: this.maxN, bias: this.bias })}\n`);
    const body = Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength);
    await atomicWriteFile(path, Buffer.concat([header, body]));
  }

  /** Loads a classifier written by {@link QualityClassifier.save}. */
  static async load(path: string): Promise<QualityClassifier> {
    const bad = (why: string, cause?: unknown): DataError =>
      new DataError('DATA_BAD_MODEL', `${path}: ${why}`, { hint: 'train one with QualityClassifier.train(...).save(path)', details: { path }, cause });
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (cause) {
      throw bad('cannot read the classifier file', cause);
    }
    if (buf.subarray(0, MAGIC.length).toString() !== MAGIC) throw bad('not an lmkit quality classifier (bad magic)');
    const nl = buf.indexOf(10, MAGIC.length);
    const header = JSON.parse(buf.subarray(MAGIC.length, nl).toString()) as { bits: number; maxN: number; bias: number };
    const body = buf.subarray(nl + 1);
    if (body.length !== 4 * (1 << header.bits)) throw bad(`weights are ${body.length} bytes, expected ${4 * (1 << header.bits)} (truncated?)`);
    const weights = new Float32Array(new Uint8Array(body).buffer);
    return new QualityClassifier(header.bits, header.maxN, weights, header.bias);
  }
}

/** Options of {@link qualityClassifierFilter}. */
export interface QualityClassifierOptions {
  /** The classifier or a path to one. Required. */
  model: QualityClassifier | string;
  /** Minimum P(good) to keep. Default 0.5. */
  threshold?: number;
}

/** Sets `meta.quality_score`; drops documents scoring below the threshold (`quality_low`). */
export function qualityClassifierFilter(options: QualityClassifierOptions): Step {
  let model = typeof options.model === 'string' ? undefined : options.model;
  const threshold = options.threshold ?? 0.5;
  return {
    name: 'quality_classifier',
    async init() {
      model ??= await QualityClassifier.load(options.model as string);
    },
    process(doc: Document): Document | Drop {
      if (model === undefined) throw new DataError('DATA_STEP_NOT_INITIALIZED', 'quality classifier used before init()');
      const score = model.score(doc.text);
      doc.meta.quality_score = score;
      return score < threshold ? drop('quality_low', score) : doc;
    },
  };
}
