// Public IPv4/IPv6 address detection with StarCoder's false-positive guards (versions, dates, documentation ranges).
import { isIPv6 } from 'node:net';
import { inReferenceContext, isAlnumAt, nearWord, type PiiMatch } from './match.js';

const IPV4 = /(?<![\d.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/g;
const IPV6 = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])/g;
const VERSION_WORDS = ['version', 'release', 'v.', 'ver.', 'build', 'firmware', 'python', 'node', 'chrome', 'firefox', 'mozilla'];
const NETWORK_WORDS = ['ip', 'dns', 'server', 'host', 'address', 'ping', 'gateway', 'proxy', 'route'];

/** True for an IPv4 address in a public (globally routable) range; private, loopback, link-local, CGNAT, documentation, multicast and reserved ranges are not public. */
export function isPublicIPv4(o: readonly number[]): boolean {
  const [a, b, c] = o;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b <= 127) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false;
  if (a === 198 && (b === 18 || b === 19)) return false;
  if (a === 198 && b === 51 && c === 100) return false;
  if (a === 203 && b === 0 && c === 113) return false;
  return true;
}

/**
 * Finds public IPv4 addresses. Guards (StarCoder/dolma): octets ≤ 255 without leading zeros; not
 * part of a longer dotted number (`1.2.3.4.5`); not next to a letter (`v1.2.3.4`); not after
 * version words; not an x.x.x.x of single digits unless a network word is near; not in an
 * ISBN/DOI/# context; not a date (`dd.mm.yy.yy`-like with a 19xx/20xx year split).
 */
export function findIPv4(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  if (!text.includes('.')) return out;
  for (const m of text.matchAll(IPV4)) {
    const start = m.index!;
    const end = start + m[0].length;
    const parts = m.slice(1, 5);
    if (parts.some((p) => (p.length > 1 && p[0] === '0') || Number(p) > 255)) continue;
    const o = parts.map(Number);
    if (!isPublicIPv4(o)) continue;
    if (isAlnumAt(text, start - 1) || isAlnumAt(text, end)) continue;
    if (nearWord(text, start, start, VERSION_WORDS, 20)) continue;
    if (parts.every((p) => p.length === 1) && !nearWord(text, start, end, NETWORK_WORDS, 50)) continue;
    if (o[0] <= 31 && o[1] <= 12 && ((o[2] === 19 || o[2] === 20) || o[3] >= 1900)) continue;
    if (inReferenceContext(text, start, end)) continue;
    out.push({ type: 'ip', start, end });
  }
  return out;
}

/** True for a global unicast IPv6 address (not ::, ::1, link-local, unique-local, multicast, documentation, or IPv4-mapped private). */
export function isPublicIPv6(addr: string): boolean {
  const a = addr.toLowerCase();
  if (a === '::' || a === '::1') return false;
  if (/^fe[89ab]/.test(a) || /^f[cd]/.test(a) || a.startsWith('ff')) return false;
  if (a.startsWith('2001:db8:') || a.startsWith('2001:0db8:')) return false;
  const mapped = /^::ffff:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (mapped) return isPublicIPv4(mapped.slice(1).map(Number));
  return true;
}

/** Finds public IPv6 addresses: valid per node:net, with a hex digit in at least 3 groups or a `::`, not a time like `12:30:45`. */
export function findIPv6(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  if (!text.includes(':')) return out;
  for (const m of text.matchAll(IPV6)) {
    const s = m[0];
    if (!isIPv6(s)) continue;
    const groups = s.split(':').filter((g) => g.length > 0);
    if (groups.length < 3 && !s.includes('::')) continue;
    if (groups.length < 2) continue;
    if (!/[0-9]/.test(s)) continue;
    if (!isPublicIPv6(s)) continue;
    const start = m.index!;
    if (isAlnumAt(text, start - 1) || isAlnumAt(text, start + s.length)) continue;
    out.push({ type: 'ip', start, end: start + s.length });
  }
  return out;
}
