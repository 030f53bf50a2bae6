// Email address detection by scanning out from each `@` (linear, no backtracking regex).
import type { PiiMatch } from './match.js';

function isLocal(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}
function isDomain(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 45;
}

/**
 * Finds email addresses: a local part of `[A-Za-z0-9._%+-]` (1–64 chars, no leading/trailing dot),
 * `@`, and a domain of at least two labels with a 2–24 letter TLD. Text like `user@localhost` or
 * `@handle` is not matched.
 */
export function findEmails(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  let from = 0;
  for (let at = text.indexOf('@', from); at !== -1; at = text.indexOf('@', from)) {
    from = at + 1;
    let s = at;
    while (s > 0 && isLocal(text.charCodeAt(s - 1)) && at - s < 64) s--;
    while (s < at && text.charCodeAt(s) === 46) s++;
    let e = at + 1;
    while (e < text.length && isDomain(text.charCodeAt(e))) e++;
    while (e > at + 1 && (text.charCodeAt(e - 1) === 46 || text.charCodeAt(e - 1) === 45)) e--;
    if (s === at || e === at + 1) continue;
    const domain = text.slice(at + 1, e);
    const labels = domain.split('.');
    if (labels.length < 2 || labels.some((l) => l.length === 0 || l.length > 63)) continue;
    if (!/^[A-Za-z]{2,24}$/.test(labels[labels.length - 1])) continue;
    if (text.charCodeAt(at - 1) === 46) continue;
    out.push({ type: 'email', start: s, end: e });
    from = e;
  }
  return out;
}
