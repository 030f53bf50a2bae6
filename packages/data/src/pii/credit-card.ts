// Payment card number detection: 13–19 digits in groups, a known issuer prefix, and a valid Luhn checksum.
import { inReferenceContext, isAlnumAt, type PiiMatch } from './match.js';

const CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;

/** True when the digit string passes the Luhn (mod 10) check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** True when the number has an issuer prefix and length of Visa, Mastercard, Amex, Discover, JCB, Diners or UnionPay. */
export function knownIssuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || (p3 >= 300 && p3 <= 305)) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  return false;
}

/**
 * Finds card numbers written plain or in space/dash groups (one separator style per number);
 * rejects runs of one repeated digit and numbers in an ISBN/DOI/# context.
 */
export function findCreditCards(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    const raw = m[0];
    if (raw.includes(' ') && raw.includes('-')) continue;
    const digits = raw.replace(/[ -]/g, '');
    if (!knownIssuer(digits) || !luhnValid(digits)) continue;
    if (/^(\d)\1+$/.test(digits)) continue;
    const start = m.index!;
    if (isAlnumAt(text, start - 1) || isAlnumAt(text, start + raw.length)) continue;
    if (inReferenceContext(text, start, start + raw.length, 30)) continue;
    out.push({ type: 'credit_card', start, end: start + raw.length });
  }
  return out;
}
