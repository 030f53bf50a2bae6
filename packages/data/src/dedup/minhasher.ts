// MinHash signatures of documents (datatrove's MinhashDedupSignature math), computed in a small WebAssembly module.
import { normalizeForDedup } from '../text/normalize.js';
import { MINHASH_WASM_BASE64 } from './wasm/minhash-wasm.js';

/** MinHash parameters; defaults are datatrove's / FineWeb's. */
export interface MinHashOptions {
  /** Word n-gram size of the shingles. Default 5. */
  nGrams?: number;
  /** Number of LSH bands (buckets). Default 14. */
  numBuckets?: number;
  /** Hashes per band. Default 8 (14 × 8 = 112 permutations). */
  hashesPerBucket?: number;
  /** Seed of the (a, b) permutation parameters. Default 1. */
  seed?: number;
}

interface WasmExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  xxh64(ptr: number, len: number, seed: bigint): bigint;
  signature(text: number, starts: number, ends: number, nWords: number, n: number, a: number, b: number, nHashes: number, out: number): void;
}

const MERSENNE = (1n << 61n) - 1n;
const MASK64 = (1n << 64n) - 1n;

let module: Promise<WebAssembly.Module> | undefined;

/** splitmix64: a tiny, well-mixed deterministic generator for the permutation parameters. */
function* splitmix64(seed: bigint): Generator<bigint> {
  let state = seed & MASK64;
  for (;;) {
    state = (state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    yield z ^ (z >> 31n);
  }
}

/** The (a, b) parameters of `count` permutations: a ∈ [1, p), b ∈ [0, p), p = 2^61 − 1, from `seed`. */
export function permutationParameters(count: number, seed: number): { a: BigUint64Array; b: BigUint64Array } {
  const rng = splitmix64(BigInt(seed));
  const a = new BigUint64Array(count);
  const b = new BigUint64Array(count);
  for (let i = 0; i < count; i++) a[i] = 1n + (rng.next().value as bigint) % (MERSENNE - 1n);
  for (let i = 0; i < count; i++) b[i] = (rng.next().value as bigint) % MERSENNE;
  return { a, b };
}

/**
 * Computes MinHash signatures and LSH band hashes. Text is normalized like datatrove
 * (`normalizeForDedup`), split on spaces into words, shingled into word n-grams, each shingle hashed
 * with 64-bit xxhash (seed 0) and permuted with (a·x + b) mod (2^61 − 1). Create with {@link MinHasher.create}.
 */
export class MinHasher {
  /** Word n-gram size. */
  readonly nGrams: number;
  /** Number of bands. */
  readonly numBuckets: number;
  /** Hashes per band. */
  readonly hashesPerBucket: number;
  private readonly ex: WasmExports;
  private readonly nHashes: number;
  private readonly aPtr: number;
  private readonly bPtr: number;
  private readonly outPtr: number;
  private readonly dynPtr: number;
  private readonly encoder = new TextEncoder();
  private starts = new Uint32Array(0);
  private ends = new Uint32Array(0);

  private constructor(ex: WasmExports, options: MinHashOptions) {
    this.ex = ex;
    this.nGrams = options.nGrams ?? 5;
    this.numBuckets = options.numBuckets ?? 14;
    this.hashesPerBucket = options.hashesPerBucket ?? 8;
    this.nHashes = this.numBuckets * this.hashesPerBucket;
    const base = Number(ex.__heap_base.value);
    this.aPtr = align(base);
    this.bPtr = this.aPtr + 8 * this.nHashes;
    this.outPtr = this.bPtr + 8 * this.nHashes;
    this.dynPtr = align(this.outPtr + 8 * this.nHashes);
    this.ensure(this.dynPtr);
    const { a, b } = permutationParameters(this.nHashes, options.seed ?? 1);
    new BigUint64Array(ex.memory.buffer, this.aPtr, this.nHashes).set(a);
    new BigUint64Array(ex.memory.buffer, this.bPtr, this.nHashes).set(b);
  }

  /** Compiles the WebAssembly module (once per process) and returns a hasher. */
  static async create(options: MinHashOptions = {}): Promise<MinHasher> {
    module ??= WebAssembly.compile(Buffer.from(MINHASH_WASM_BASE64, 'base64'));
    const instance = await WebAssembly.instantiate(await module, {});
    return new MinHasher(instance.exports as unknown as WasmExports, options);
  }

  /** xxh64 of a byte array (the module's own implementation; tested against xxhash-wasm). */
  xxh64(bytes: Uint8Array, seed = 0n): bigint {
    this.ensure(this.dynPtr + bytes.length);
    new Uint8Array(this.ex.memory.buffer, this.dynPtr, bytes.length).set(bytes);
    return BigInt.asUintN(64, this.ex.xxh64(this.dynPtr, bytes.length, seed));
  }

  /** The full signature (numBuckets × hashesPerBucket values) of a raw text; all 2^64−1 when it has no words. */
  signature(text: string): BigUint64Array {
    this.compute(text);
    return new BigUint64Array(this.ex.memory.buffer, this.outPtr, this.nHashes).slice();
  }

  /**
   * One 64-bit hash per band (xxh64 of the band's hashes), written as (hi, lo) uint32 pairs into
   * `out` (length 2 × numBuckets). Two documents collide in a band iff their band hashes are equal
   * (up to a 2^-64 chance). Returns false when the text has no words.
   */
  bandHashes(text: string, out: Uint32Array): boolean {
    if (!this.compute(text)) return false;
    const bandBytes = 8 * this.hashesPerBucket;
    for (let band = 0; band < this.numBuckets; band++) {
      const h = BigInt.asUintN(64, this.ex.xxh64(this.outPtr + band * bandBytes, bandBytes, 0n));
      out[2 * band] = Number(h >> 32n);
      out[2 * band + 1] = Number(h & 0xffffffffn);
    }
    return true;
  }

  private compute(text: string): boolean {
    const norm = normalizeForDedup(text);
    const maxBytes = norm.length * 3;
    const maxWords = (norm.length >> 1) + 1;
    if (this.starts.length < maxWords) {
      this.starts = new Uint32Array(maxWords * 2);
      this.ends = new Uint32Array(maxWords * 2);
    }
    const startsPtr = this.dynPtr;
    const endsPtr = startsPtr + 4 * this.starts.length;
    const textPtr = endsPtr + 4 * this.ends.length;
    this.ensure(textPtr + maxBytes + 8);
    const bytes = new Uint8Array(this.ex.memory.buffer, textPtr, maxBytes);
    const len = this.encoder.encodeInto(norm, bytes).written;
    const starts = new Uint32Array(this.ex.memory.buffer, startsPtr, this.starts.length);
    const ends = new Uint32Array(this.ex.memory.buffer, endsPtr, this.ends.length);
    let nWords = 0;
    let start = 0;
    for (let i = 0; i <= len; i++) {
      if (i === len || bytes[i] === 32) {
        if (i > start) {
          starts[nWords] = start;
          ends[nWords] = i;
          nWords++;
        }
        start = i + 1;
      }
    }
    this.ex.signature(textPtr, startsPtr, endsPtr, nWords, this.nGrams, this.aPtr, this.bPtr, this.nHashes, this.outPtr);
    return nWords > 0;
  }

  private ensure(bytes: number): void {
    const have = this.ex.memory.buffer.byteLength;
    if (bytes > have) this.ex.memory.grow(Math.ceil((bytes - have) / 65536));
  }
}

function align(n: number): number {
  return (n + 15) & ~15;
}

/** Probability that two documents with Jaccard similarity `j` share at least one band: 1 − (1 − j^r)^b. */
export function collisionProbability(j: number, bands = 14, rows = 8): number {
  return 1 - (1 - j ** rows) ** bands;
}
