// Hashing helpers: a shared xxhash-wasm instance (xxh64) and a fast 32-bit FNV-1a for in-memory keys.
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: Promise<XXHashAPI> | undefined;
let ready: XXHashAPI | undefined;

/** Loads xxhash-wasm once per process and returns it. */
export async function loadXxhash(): Promise<XXHashAPI> {
  api ??= xxhash().then((x) => (ready = x));
  return api;
}

/** The loaded xxhash API; throws when {@link loadXxhash} has not been awaited yet. */
export function xxhashSync(): XXHashAPI {
  if (ready === undefined) throw new Error('xxhash-wasm is not loaded: await loadXxhash() first (steps do it in init())');
  return ready;
}

/** 64-bit xxhash of a string's UTF-8 bytes, as an unsigned bigint (seed 0). */
export function xxh64(text: string, seed = 0n): bigint {
  return xxhashSync().h64(text, seed);
}

/** 32-bit FNV-1a over UTF-16 code units: for in-memory hash maps only, never persisted. */
export function fnv1a32(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
