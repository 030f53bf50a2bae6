// Keyword filter: drop documents (or remove lines) containing listed words or phrases, word-bounded and case-insensitive by default.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { compileBadWords } from './bad-words.js';

/** Options of {@link keywordFilter}. */
export interface KeywordOptions {
  /** Words or phrases to look for. Required. */
  keywords: readonly string[];
  /** `document`: drop the whole document; `line`: remove matching lines and keep the rest. Default 'document'. */
  scope?: 'document' | 'line';
  /** Match anywhere (substring) instead of on word boundaries. Default false. */
  substring?: boolean;
  /** Step name in stats and configs, so several keyword filters can coexist. Default 'keyword'. */
  name?: string;
}

/**
 * Drops documents mentioning a keyword (reason `keyword`), or removes the matching lines
 * (`scope: 'line'`; the document is dropped as `keyword_empty` only when no line survives).
 */
export function keywordFilter(options: KeywordOptions): Step {
  const matcher = compileBadWords(options.keywords, options.substring ?? false);
  const scope = options.scope ?? 'document';
  return {
    name: options.name ?? 'keyword',
    process(doc: Document): Document | Drop {
      if (scope === 'document') return matcher.find(doc.text) === undefined ? doc : drop('keyword');
      const lines = doc.text.split('\n');
      const kept = lines.filter((l) => matcher.find(l) === undefined);
      if (kept.length === lines.length) return doc;
      const text = kept.join('\n').trim();
      return text.length === 0 ? drop('keyword_empty') : { ...doc, text };
    },
  };
}
