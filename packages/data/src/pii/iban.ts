// IBAN detection: country code, check digits, the country's BBAN length, and the ISO 13616 mod-97 check.
import { isAlnumAt, type PiiMatch } from './match.js';

/** IBAN length per country (ISO 13616 registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24,
  DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
  HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22,
  VG: 24, XK: 20,
};

// Groups of exactly four (each optionally after one space), then a shorter tail: no ambiguous splits, so no backtracking blow-up on long capital/digit runs.
const CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;

/** True when the compact IBAN has its country's length and its mod-97 remainder is 1. */
export function ibanValid(compact: string): boolean {
  const len = IBAN_LENGTHS[compact.slice(0, 2)];
  if (len === undefined || compact.length !== len) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    const v = c >= 65 ? c - 55 : c - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/** Finds IBANs written compact or in groups of four separated by single spaces. */
export function findIbans(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    let raw = m[0];
    const start = m.index!;
    // NOTE: the candidate may swallow a following word of capitals/digits; trim to the country length.
    const want = IBAN_LENGTHS[raw.slice(0, 2)];
    if (want === undefined) continue;
    let seen = 0;
    let cut = 0;
    while (cut < raw.length && seen < want) {
      if (raw[cut] !== ' ') seen++;
      cut++;
    }
    raw = raw.slice(0, cut);
    if (isAlnumAt(text, start + raw.length)) continue;
    if (!ibanValid(raw.replace(/ /g, ''))) continue;
    out.push({ type: 'iban', start, end: start + raw.length });
  }
  return out;
}
