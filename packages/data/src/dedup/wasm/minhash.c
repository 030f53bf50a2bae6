// MinHash signatures in WebAssembly: xxh64 of every word n-gram, then min over (a*x+b) mod 2^61-1 permutations.
// Build: src/dedup/wasm/build.sh (clang 14, wasm32) -> src/dedup/wasm/minhash-wasm.ts (base64).
#include <stdint.h>

#define PRIME1 11400714785074694791ULL
#define PRIME2 14029467366897019727ULL
#define PRIME3 1609587929392839161ULL
#define PRIME4 9650029242287828579ULL
#define PRIME5 2870177450012600261ULL
#define MERSENNE ((1ULL << 61) - 1)

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t round64(uint64_t acc, uint64_t in) { acc += in * PRIME2; acc = rotl(acc, 31); return acc * PRIME1; }
static inline uint64_t merge64(uint64_t acc, uint64_t v) { acc ^= round64(0, v); return acc * PRIME1 + PRIME4; }

/* XXH64 (reference algorithm), little-endian. */
__attribute__((export_name("xxh64")))
uint64_t xxh64(const uint8_t *p, uint32_t len, uint64_t seed) {
  const uint8_t *end = p + len;
  uint64_t h;
  if (len >= 32) {
    const uint8_t *limit = end - 32;
    uint64_t v1 = seed + PRIME1 + PRIME2, v2 = seed + PRIME2, v3 = seed, v4 = seed - PRIME1;
    do {
      v1 = round64(v1, rd64(p)); v2 = round64(v2, rd64(p + 8));
      v3 = round64(v3, rd64(p + 16)); v4 = round64(v4, rd64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = merge64(h, v1); h = merge64(h, v2); h = merge64(h, v3); h = merge64(h, v4);
  } else {
    h = seed + PRIME5;
  }
  h += (uint64_t)len;
  while (p + 8 <= end) { h ^= round64(0, rd64(p)); h = rotl(h, 27) * PRIME1 + PRIME4; p += 8; }
  if (p + 4 <= end) { h ^= (uint64_t)rd32(p) * PRIME1; h = rotl(h, 23) * PRIME2 + PRIME3; p += 4; }
  while (p < end) { h ^= (*p) * PRIME5; h = rotl(h, 11) * PRIME1; p++; }
  h ^= h >> 33; h *= PRIME2; h ^= h >> 29; h *= PRIME3; h ^= h >> 32;
  return h;
}

static inline uint64_t mod61(uint64_t x) {
  x = (x & MERSENNE) + (x >> 61);
  return x >= MERSENNE ? x - MERSENNE : x;
}

/* (a*x + b) mod 2^61-1 for a, x, b < 2^61, from 32-bit limbs (wasm has no 64x64->128 multiply). */
static inline uint64_t muladdmod61(uint64_t a, uint64_t x, uint64_t b) {
  uint64_t al = a & 0xffffffffULL, ah = a >> 32, xl = x & 0xffffffffULL, xh = x >> 32;
  uint64_t lo = al * xl;              /* < 2^64 */
  uint64_t mid = ah * xl + al * xh;   /* < 2^62 */
  uint64_t hi = ah * xh;              /* < 2^58: weight 2^64 = 8 mod p */
  /* mid * 2^32 = (mid >> 29) * 2^61 + (mid & (2^29-1)) * 2^32 */
  /* every term < 2^61 and there are six: s < 6 * 2^61 < 2^64, one folding step suffices. */
  uint64_t s = (hi << 3) + (mid >> 29) + ((mid & 0x1fffffffULL) << 32) + (lo & MERSENNE) + (lo >> 61) + b;
  return mod61(s);
}

/*
 * Signature of one normalized text: words are [starts[i], ends[i]) byte ranges separated by single
 * spaces; shingle i spans words i..i+n-1. With fewer than n words the whole text is one shingle.
 * out[j] = min over shingles of (a[j] * (h mod p) + b[j]) mod p, h = xxh64(shingle, seed 0).
 */
__attribute__((export_name("signature")))
void signature(const uint8_t *text, const uint32_t *starts, const uint32_t *ends, uint32_t n_words, uint32_t n,
               const uint64_t *a, const uint64_t *b, uint32_t n_hashes, uint64_t *out) {
  for (uint32_t j = 0; j < n_hashes; j++) out[j] = UINT64_MAX;
  if (n_words == 0) return;
  uint32_t n_shingles = n_words >= n ? n_words - n + 1 : 1;
  uint32_t last = n_words >= n ? n - 1 : n_words - 1;
  for (uint32_t i = 0; i < n_shingles; i++) {
    uint32_t s = starts[i], e = ends[i + last];
    uint64_t x = mod61(xxh64(text + s, e - s, 0));
    for (uint32_t j = 0; j < n_hashes; j++) {
      uint64_t v = muladdmod61(a[j], x, b[j]);
      if (v < out[j]) out[j] = v;
    }
  }
}
