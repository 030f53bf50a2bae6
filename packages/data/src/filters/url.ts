// URL filter (datatrove/RefinedWeb style): blocked domains, banned words in the URL, and a soft-banned word count, read from a metadata field.
import { drop, type Document, type Drop, type Step } from '../types.js';

/** Options of {@link urlFilter}. Lists are the caller's (UT1/RefinedWeb lists are not on npm). */
export interface UrlOptions {
  /** Metadata field holding the URL. Default 'url'. */
  field?: string;
  /** Domains to block; a domain blocks its subdomains too. Default []. */
  blockedDomains?: readonly string[];
  /** Full URLs to block. Default []. */
  blockedUrls?: readonly string[];
  /** Words that block a URL when they appear as a URL word (split on non-alphanumerics). Default []. */
  bannedWords?: readonly string[];
  /** Words of which `softBanThreshold` or more block a URL. Default []. */
  softBannedWords?: readonly string[];
  /** How many soft-banned words block a URL. Default 2 (datatrove). */
  softBanThreshold?: number;
  /** Drop documents without a URL in `field`. Default false. */
  requireUrl?: boolean;
}

/** Lowercased host of a URL without `www.`, or undefined when it does not parse. */
export function urlDomain(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, '');
  } catch {
    return undefined;
  }
}

/** Drops documents by URL: reasons `url_blocked_domain`, `url_blocked`, `url_banned_word`, `url_soft_banned`, `url_missing`. */
export function urlFilter(options: UrlOptions = {}): Step {
  const field = options.field ?? 'url';
  const domains = new Set((options.blockedDomains ?? []).map((d) => d.toLowerCase().replace(/^www\./, '')));
  const urls = new Set(options.blockedUrls ?? []);
  const banned = new Set((options.bannedWords ?? []).map((w) => w.toLowerCase()));
  const soft = new Set((options.softBannedWords ?? []).map((w) => w.toLowerCase()));
  const softThreshold = options.softBanThreshold ?? 2;
  return {
    name: 'url',
    process(doc: Document): Document | Drop {
      const url = doc.meta[field];
      if (typeof url !== 'string' || url.length === 0) return options.requireUrl ? drop('url_missing') : doc;
      if (urls.has(url)) return drop('url_blocked');
      const domain = urlDomain(url);
      if (domain !== undefined && domains.size > 0) {
        for (let d = domain; d.length > 0; d = d.slice(d.indexOf('.') + 1)) {
          if (domains.has(d)) return drop('url_blocked_domain');
          if (!d.includes('.')) break;
        }
      }
      if (banned.size === 0 && soft.size === 0) return doc;
      const words = url.toLowerCase().split(/[^\p{L}\p{N}]+/u);
      let softCount = 0;
      for (const w of words) {
        if (banned.has(w)) return drop('url_banned_word');
        if (soft.has(w)) softCount++;
      }
      return softCount >= softThreshold ? drop('url_soft_banned', softCount) : doc;
    },
  };
}
