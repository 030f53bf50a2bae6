// Street address detection (US/UK-style "number + capitalized name + street type", unit, city/state/ZIP, and P.O. boxes).
import type { PiiMatch } from './match.js';

// Full street types, then abbreviations (which may carry a dot: "St.").
const SUFFIX =
  'Street|Avenue|Road|Boulevard|Lane|Drive|Court|Way|Place|Terrace|Parkway|Highway|Circle|Square|Crescent|Close|Gardens|Row|Alley|Plaza|Trail|' +
  '(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Hwy|Cir|Sq)\\.?';
const STREET = new RegExp(
  String.raw`\b\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s+(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?(?:[A-Z][a-z]+\.?\s+|\d{1,3}(?:st|nd|rd|th)\s+){1,3}(?:${SUFFIX})(?![A-Za-z])` +
    String.raw`(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|#)\.?\s*[A-Za-z0-9-]{1,6})?` +
    String.raw`(?:,\s+[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2},?\s+[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?)?`,
  'g',
);
const PO_BOX = /\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b/gi;

/** Finds street addresses and P.O. boxes. The street name must be capitalized words or an ordinal ("5th"). */
export function findAddresses(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  if (!/\d/.test(text)) return out;
  for (const m of text.matchAll(STREET)) out.push({ type: 'address', start: m.index!, end: m.index! + m[0].length });
  for (const m of text.matchAll(PO_BOX)) out.push({ type: 'address', start: m.index!, end: m.index! + m[0].length });
  return out.sort((a, b) => a.start - b.start);
}
