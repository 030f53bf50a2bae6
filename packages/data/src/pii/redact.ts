// The PII redaction step: runs the detectors, resolves overlaps, and rewrites each span as redact / tag / mask / salted hash.
import { createHmac } from 'node:crypto';
import { DataError } from '../errors.js';
import { drop, type Document, type Drop, type Step } from '../types.js';
import { findAddresses } from './address.js';
import { findCreditCards } from './credit-card.js';
import { findEmails } from './email.js';
import { findIbans } from './iban.js';
import { findIPv4, findIPv6 } from './ip.js';
import type { PiiDetector, PiiMatch, PiiType } from './match.js';
import { findNames } from './names.js';
import { findPhones } from './phone.js';
import { SpanMask } from './span-mask.js';

/** How a detected span is rewritten. */
export type RedactMode = 'redact' | 'replace' | 'mask' | 'hash';

/** Options of {@link piiRedactor} and {@link redactPii}. */
export interface PiiOptions {
  /** Kinds to detect. Default all but `name` and `address` (the two with the lowest precision): email, phone, ip, credit_card, iban. */
  types?: readonly PiiType[];
  /** `redact` deletes the span, `replace` writes a tag (`<EMAIL>`), `mask` replaces letters and digits with `*`, `hash` writes `<EMAIL:hmac>`. Default 'replace'. */
  mode?: RedactMode;
  /** Secret salt for `hash` mode (HMAC-SHA256, 16 hex digits kept). Required in that mode. */
  salt?: string;
  /** Tag per type for `replace`/`hash`. Default `EMAIL`, `PHONE`, `IP_ADDRESS`, `CREDIT_CARD`, `IBAN`, `ADDRESS`, `NAME`. */
  tags?: Partial<Record<PiiType, string>>;
  /** Drop documents with more matches than this (dolma v1.5 uses 5), or null. Default null. */
  maxMatches?: number | null;
}

/** Every kind the redactor knows. */
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'ip', 'credit_card', 'iban', 'address', 'name'];

const DEFAULT_TYPES: readonly PiiType[] = ['email', 'phone', 'ip', 'credit_card', 'iban'];
const TAGS: Record<PiiType, string> = {
  email: 'EMAIL', phone: 'PHONE', ip: 'IP_ADDRESS', credit_card: 'CREDIT_CARD', iban: 'IBAN', address: 'ADDRESS', name: 'NAME',
};
// Earlier wins when spans overlap: the most specific, best-validated detectors first.
const PRIORITY: readonly PiiType[] = ['email', 'iban', 'credit_card', 'ip', 'phone', 'address', 'name'];
const DETECTORS: Record<PiiType, PiiDetector> = {
  email: findEmails,
  phone: findPhones,
  ip: (t) => [...findIPv4(t), ...findIPv6(t)],
  credit_card: findCreditCards,
  iban: findIbans,
  address: findAddresses,
  name: findNames,
};

/** All non-overlapping PII spans of the given kinds, sorted by position (higher-priority kinds win overlaps). */
export function detectPii(text: string, types: readonly PiiType[] = DEFAULT_TYPES): PiiMatch[] {
  const wanted = PRIORITY.filter((t) => types.includes(t));
  const chosen: PiiMatch[] = [];
  const taken = new SpanMask(text.length);
  for (const type of wanted) {
    for (const m of DETECTORS[type](text)) if (taken.claim(m.start, m.end)) chosen.push(m);
  }
  return chosen.sort((a, b) => a.start - b.start);
}

/** Rewrites the text with every detected span replaced according to `mode`; returns the text and the matches. */
export function redactPii(text: string, options: PiiOptions = {}): { text: string; matches: PiiMatch[] } {
  const mode = options.mode ?? 'replace';
  if (mode === 'hash' && !options.salt) {
    throw new DataError('DATA_PII_NO_SALT', 'PII mode "hash" needs a salt', {
      hint: 'pass { mode: "hash", salt: "<a secret string>" } (without a secret salt, hashes of phone numbers can be brute-forced)',
    });
  }
  const tags = { ...TAGS, ...options.tags };
  const matches = detectPii(text, options.types ?? DEFAULT_TYPES);
  if (matches.length === 0) return { text, matches };
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start);
    const value = text.slice(m.start, m.end);
    if (mode === 'replace') out += `<${tags[m.type]}>`;
    else if (mode === 'mask') out += value.replace(/[\p{L}\p{N}]/gu, '*');
    else if (mode === 'hash') out += `<${tags[m.type]}:${createHmac('sha256', options.salt!).update(value).digest('hex').slice(0, 16)}>`;
    at = m.end;
  }
  out += text.slice(at);
  return { text: out, matches };
}

/**
 * A step that redacts PII and records counts per kind in `meta.pii` (only when something was found).
 * With `maxMatches`, documents with more matches are dropped (`pii_too_many`).
 */
export function piiRedactor(options: PiiOptions = {}): Step {
  if ((options.mode ?? 'replace') === 'hash' && !options.salt) redactPii('', options);
  return {
    name: 'pii',
    process(doc: Document): Document | Drop {
      const { text, matches } = redactPii(doc.text, options);
      if (matches.length === 0) return doc;
      if (options.maxMatches != null && matches.length > options.maxMatches) return drop('pii_too_many', matches.length);
      const counts: Record<string, number> = {};
      for (const m of matches) counts[m.type] = (counts[m.type] ?? 0) + 1;
      return { ...doc, text, meta: { ...doc.meta, pii: counts } };
    },
  };
}
