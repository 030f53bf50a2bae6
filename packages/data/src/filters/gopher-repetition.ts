// Gopher repetition filter (Rae et al. 2021, Table A1) with datatrove's semantics, computed on word ids with rolling hashes.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { NGramTable } from '../text/ngram-table.js';
import { splitWords, wordIds } from '../text/words.js';

/** Options of {@link gopherRepetitionFilter}; `null` disables a rule. Defaults are the paper's. */
export interface GopherRepetitionOptions {
  /** Max fraction of paragraphs (split on 2+ newlines) that repeat an earlier one. Default 0.3. */
  dupParaFrac?: number | null;
  /** Max characters in repeated paragraphs ÷ all characters. Default 0.3. */
  dupParaCharFrac?: number | null;
  /** Max fraction of lines that repeat an earlier one. Default 0.3. */
  dupLineFrac?: number | null;
  /** Max characters in repeated lines ÷ all characters. Default 0.2. */
  dupLineCharFrac?: number | null;
  /** [n, max fraction] for the most frequent n-gram's characters (length × count). Default [[2,0.2],[3,0.18],[4,0.16]]. */
  topNGrams?: ReadonlyArray<readonly [number, number]>;
  /** [n, max fraction] for characters covered by duplicated n-grams. Default 5..10 → 0.15..0.10. */
  dupNGrams?: ReadonlyArray<readonly [number, number]>;
}

const TOP_DEFAULT: Array<[number, number]> = [[2, 0.2], [3, 0.18], [4, 0.16]];
const DUP_DEFAULT: Array<[number, number]> = [[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.1]];

/**
 * Drops documents with too much repetition. Matches datatrove's `GopherRepetitionFilter`:
 * duplicate elements count occurrences after the first; the top n-gram's characters are its
 * space-joined length × its count; duplicated n-gram characters are counted greedily left to right,
 * skipping past a repeated n-gram (words joined without spaces). Reasons: `dup_para_frac`,
 * `dup_para_char_frac`, `dup_line_frac`, `dup_line_char_frac`, `top_<n>_gram`, `duplicated_<n>_n_grams`.
 */
export function gopherRepetitionFilter(options: GopherRepetitionOptions = {}): Step {
  const o = { dupParaFrac: 0.3, dupParaCharFrac: 0.3, dupLineFrac: 0.3, dupLineCharFrac: 0.2, ...options };
  const top = options.topNGrams ?? TOP_DEFAULT;
  const dup = options.dupNGrams ?? DUP_DEFAULT;
  return {
    name: 'gopher_repetition',
    process(doc: Document): Document | Drop {
      const text = doc.text;
      const len = text.length || 1;
      const paras = text.trim().split(/\n{2,}/);
      const [pDup, pChars] = findDuplicates(paras);
      if (o.dupParaFrac !== null && pDup / paras.length > o.dupParaFrac) return drop('dup_para_frac', pDup / paras.length);
      if (o.dupParaCharFrac !== null && pChars / len > o.dupParaCharFrac) return drop('dup_para_char_frac', pChars / len);
      const lines = text.split(/\n+/);
      const [lDup, lChars] = findDuplicates(lines);
      if (o.dupLineFrac !== null && lDup / lines.length > o.dupLineFrac) return drop('dup_line_frac', lDup / lines.length);
      if (o.dupLineCharFrac !== null && lChars / len > o.dupLineCharFrac) return drop('dup_line_char_frac', lChars / len);
      const { ids, lengths } = wordIds(splitWords(text));
      for (const [n, frac] of top) {
        if (ids.length < n) continue;
        const chars = topNGramChars(ids, lengths, n);
        if (chars / len > frac) return drop(`top_${n}_gram`, chars / len);
      }
      for (const [n, frac] of dup) {
        const chars = duplicateNGramChars(ids, lengths, n);
        if (chars / len > frac) return drop(`duplicated_${n}_n_grams`, chars / len);
      }
      return doc;
    },
  };
}

/** [repeated elements, their characters]: every occurrence after the first counts. */
export function findDuplicates(items: readonly string[]): [number, number] {
  const seen = new Set<string>();
  let dups = 0;
  let chars = 0;
  for (const x of items) {
    if (seen.has(x)) {
      dups++;
      chars += x.length;
    } else seen.add(x);
  }
  return [dups, chars];
}

// Two lanes of polynomial rolling hashes mod 2^32 (Math.imul: no division), with different odd bases;
// a key is the pair (h1, h2). For n ≤ 10 small-integer coefficients a collision needs both lanes to
// collide, ~2^-64 per pair of distinct n-grams on natural text.
const B1 = 0x9e3779b1 | 0;
const B2 = 0x85ebca77 | 0;

/** Rolling hashes of every n-gram of `ids`: n-gram i is (h1[i], h2[i]). Returns how many. */
export function nGramKeys(ids: Int32Array, n: number, h1: Int32Array, h2: Int32Array): number {
  const m = ids.length - n + 1;
  if (m <= 0) return 0;
  let pow1 = 1;
  let pow2 = 1;
  for (let k = 0; k < n - 1; k++) {
    pow1 = Math.imul(pow1, B1);
    pow2 = Math.imul(pow2, B2);
  }
  let a = 0;
  let b = 0;
  for (let k = 0; k < n; k++) {
    a = (Math.imul(a, B1) + ids[k] + 1) | 0;
    b = (Math.imul(b, B2) + ids[k] + 1) | 0;
  }
  h1[0] = a;
  h2[0] = b;
  for (let i = 1; i < m; i++) {
    const out = ids[i - 1] + 1;
    const inn = ids[i + n - 1] + 1;
    a = (Math.imul((a - Math.imul(out, pow1)) | 0, B1) + inn) | 0;
    b = (Math.imul((b - Math.imul(out, pow2)) | 0, B2) + inn) | 0;
    h1[i] = a;
    h2[i] = b;
  }
  return m;
}

// Scratch buffers and one hash table reused across documents (steps run one document at a time per worker).
let bufA = new Int32Array(1024);
let bufB = new Int32Array(1024);
const table = new NGramTable();

function keysFor(ids: Int32Array, n: number): number {
  if (bufA.length < ids.length) {
    bufA = new Int32Array(ids.length * 2);
    bufB = new Int32Array(ids.length * 2);
  }
  return nGramKeys(ids, n, bufA, bufB);
}

/** Characters of the most frequent n-gram (words joined by spaces) × its count; ties go to the first seen (Counter.most_common). */
export function topNGramChars(ids: Int32Array, lengths: Int32Array, n: number): number {
  const m = keysFor(ids, n);
  if (m === 0) return 0;
  table.reset(m);
  let best = 0;
  for (let i = 0; i < m; i++) {
    const c = table.add(bufA[i], bufB[i]);
    if (c > best) best = c;
  }
  // The first n-gram (by first occurrence) whose final count is the maximum.
  let first = 0;
  for (let i = 0; i < m; i++) {
    if (table.count(bufA[i], bufB[i]) === best) {
      first = i;
      break;
    }
  }
  let chars = n - 1;
  for (let k = 0; k < n; k++) chars += lengths[ids[first + k]];
  return chars * best;
}

/** datatrove's `find_all_duplicate`: characters (words joined without spaces) of n-grams seen before, skipping n words after each. */
export function duplicateNGramChars(ids: Int32Array, lengths: Int32Array, n: number): number {
  const m = keysFor(ids, n);
  if (m === 0) return 0;
  table.reset(m);
  let chars = 0;
  let i = 0;
  while (i < m) {
    if (table.count(bufA[i], bufB[i]) > 0) {
      for (let k = 0; k < n; k++) chars += lengths[ids[i + k]];
      i += n;
    } else {
      table.add(bufA[i], bufB[i]);
      i++;
    }
  }
  return chars;
}
