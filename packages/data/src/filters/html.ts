// Markup filter: drops documents whose text still carries HTML (tags, entities, script/style blocks) after extraction.
import { drop, type Document, type Drop, type Step } from '../types.js';

/** Options of {@link htmlFilter}. Not published thresholds: defaults chosen so a few stray `<b>` pass and a raw page does not. */
export interface HtmlOptions {
  /** Max characters inside tags and entities ÷ all characters. Default 0.02. */
  maxMarkupCharRatio?: number;
  /** Drop any document containing `<script` or `<style`. Default true. */
  dropScripts?: boolean;
}

// Bounded repetition ({0,256}) keeps these linear: no nested quantifiers, no backtracking blow-up.
const TAG = /<\/?[A-Za-z][A-Za-z0-9-]{0,15}(?:\s[^<>]{0,256})?\/?>|<!--[^]{0,2048}?-->/g;
const ENTITY = /&(?:[A-Za-z]{2,10}|#\d{1,6}|#x[0-9A-Fa-f]{1,6});/g;
const SCRIPT = /<(?:script|style)\b/i;

/** Fraction of characters that belong to HTML tags, comments or entities. */
export function markupCharRatio(text: string): number {
  if (text.length === 0) return 0;
  let chars = 0;
  if (text.includes('<')) for (const m of text.matchAll(TAG)) chars += m[0].length;
  if (text.includes('&')) for (const m of text.matchAll(ENTITY)) chars += m[0].length;
  return chars / text.length;
}

/** Drops documents with leftover markup: reasons `html_script`, `html_markup` (with the ratio). */
export function htmlFilter(options: HtmlOptions = {}): Step {
  const maxRatio = options.maxMarkupCharRatio ?? 0.02;
  const dropScripts = options.dropScripts ?? true;
  return {
    name: 'html',
    process(doc: Document): Document | Drop {
      if (dropScripts && doc.text.includes('<') && SCRIPT.test(doc.text)) return drop('html_script');
      const r = markupCharRatio(doc.text);
      return r > maxRatio ? drop('html_markup', r) : doc;
    },
  };
}
