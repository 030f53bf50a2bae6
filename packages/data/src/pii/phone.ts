// Phone number detection in international (+CC), North American and European national formats, with dolma's reference-context guard.
import { inReferenceContext, isAlnumAt, type PiiMatch } from './match.js';
import { SpanMask } from './span-mask.js';

// Each alternative has bounded repetition and fixed separators, so matching stays linear.
const INTERNATIONAL = /\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,6}/g;
const NANP = /(?:\b1[ .-]?)?(?:\(\d{3}\)[ ]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b/g;
const NATIONAL = /\b0\d{1,4}(?:[ .-]\d{2,4}){2,4}\b/g;

/**
 * Finds phone numbers. Accepted: `+<country> …` with 8–15 digits in total (E.164); North American
 * numbers with separators (`(415) 555-0132`, `415-555-0132`, `1 415 555 0132`; area code and exchange
 * start with 2–9); national numbers with a trunk `0` and 9–11 digits in groups (`020 7946 0958`,
 * `01 23 45 67 89`). Rejected: digit runs glued to letters or more digits, numbers inside URLs,
 * dates (`2021-03-04`), and anything in an ISBN/DOI/# context (dolma). Bare digit runs without
 * separators are never phones (IDs, amounts). libphonenumber-js was not used: its per-country
 * metadata validates but does not find numbers in prose, and these structural rules hold the
 * labelled set's precision without a 150 kB dependency.
 */
export function findPhones(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  const taken = new SpanMask(text.length);
  const add = (start: number, end: number, digits: number, min: number, max: number): void => {
    if (digits < min || digits > max) return;
    if (isAlnumAt(text, start - 1) || isAlnumAt(text, end)) return;
    const before = text.charCodeAt(start - 1);
    if (before === 47 || before === 61 || before === 46 || before === 36) return; // inside a URL path/query, a dotted number, or an amount
    if (text.charCodeAt(end) === 46 && /\d/.test(text[end + 1] ?? '')) return;
    if (inReferenceContext(text, start, end)) return;
    if (!taken.claim(start, end)) return;
    found.push({ type: 'phone', start, end });
  };
  if (text.includes('+')) {
    for (const m of text.matchAll(INTERNATIONAL)) {
      const s = m[0].replace(/[ .-]+$/, '');
      add(m.index!, m.index! + s.length, countDigits(s), 8, 15);
    }
  }
  for (const m of text.matchAll(NANP)) {
    const d = m[0].replace(/\D/g, '');
    const local = d.length === 11 ? d.slice(1) : d;
    if (local[0] < '2' || local[3] < '2') continue;
    if (/^\d{4}[-.]\d{2}[-.]\d{2}/.test(m[0])) continue;
    add(m.index!, m.index! + m[0].length, local.length, 10, 10);
  }
  for (const m of text.matchAll(NATIONAL)) {
    if (/^0\d{1,3}[-./]\d{1,2}[-./]\d{2,4}$/.test(m[0])) continue; // a date like 03-04-2021
    add(m.index!, m.index! + m[0].length, countDigits(m[0]), 9, 11);
  }
  return found.sort((a, b) => a.start - b.start);
}

function countDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n++;
  return n;
}
