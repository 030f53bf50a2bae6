// C4 line and document rules (Raffel et al. 2020; TFDS c4_utils = datatrove's C4QualityFilter), plus the opt-in LDNOOBW bad-words rule.
import { drop, type Document, type Drop, type Step } from '../types.js';
import { splitSentences } from '../text/sentences.js';
import { BadWords, loadBadWords } from './bad-words.js';

/** Options of {@link c4Filter}. Defaults are C4's, except the bad-words rule, which is off by default. */
export interface C4Options {
  /** Split the document into lines on newlines (true) or into sentences (false). Default true. */
  splitParagraph?: boolean;
  /** Remove Wikipedia citations `[1]`, `[edit]`, `[citation needed]`. Default true. */
  removeCitations?: boolean;
  /** Drop lines that do not end in `. ? ! " '` or that end in `...`. Default true (FineWeb sets false). */
  filterNoTerminalPunct?: boolean;
  /** Drop the document when fewer sentences remain. Default 5. */
  minNumSentences?: number;
  /** Drop lines with fewer words. Default 3. */
  minWordsPerLine?: number;
  /** Drop lines with a longer word. Default 1000. */
  maxWordLength?: number;
  /** Drop the document when it contains "lorem ipsum". Default true. */
  filterLoremIpsum?: boolean;
  /** Drop lines that mention "javascript". Default true. */
  filterJavascript?: boolean;
  /** Drop the document when it contains `{`. Default true. */
  filterCurlyBracket?: boolean;
  /** Drop lines with a policy phrase (terms of use, privacy policy, cookies). Default true. */
  filterPolicy?: boolean;
  /** Drop documents containing an LDNOOBW word (`naughty-words` list for this language), or false. Default false. */
  badWordsLanguage?: string | false;
}

const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/g;
const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];

/**
 * Applies C4's rules: removes the lines that fail a line rule and rewrites `doc.text` with the kept
 * lines; drops the document (`lorem_ipsum`, `curly_bracket`, `too_few_sentences`, `bad_words`) when a
 * document rule fails.
 */
export function c4Filter(options: C4Options = {}): Step {
  const o = {
    splitParagraph: true,
    removeCitations: true,
    filterNoTerminalPunct: true,
    minNumSentences: 5,
    minWordsPerLine: 3,
    maxWordLength: 1000,
    filterLoremIpsum: true,
    filterJavascript: true,
    filterCurlyBracket: true,
    filterPolicy: true,
    badWordsLanguage: false as string | false,
    ...options,
  };
  let badWords: BadWords | undefined;
  return {
    name: 'c4',
    async init() {
      if (o.badWordsLanguage !== false) badWords = loadBadWords(o.badWordsLanguage);
    },
    process(doc: Document): Document | Drop {
      if (o.badWordsLanguage !== false) {
        badWords ??= loadBadWords(o.badWordsLanguage);
        const hit = badWords.find(doc.text);
        if (hit !== undefined) return drop('bad_words');
      }
      const lines = o.splitParagraph
        ? doc.text.split(/\r\n|\r|\n/)
        : splitSentences(doc.text).map((s) => doc.text.slice(s.start, s.end));
      let sentences = 0;
      const kept: string[] = [];
      for (let line of lines) {
        line = line.trim();
        const words = line.split(/\s+/).filter((w) => w.length > 0);
        if (o.maxWordLength !== -1 && words.some((w) => w.length > o.maxWordLength)) continue;
        if (o.removeCitations && line.includes('[')) line = line.replace(CITATION, '');
        if (o.filterNoTerminalPunct && (!endsWithTerminal(line) || line.endsWith('...'))) continue;
        if (words.length < o.minWordsPerLine) continue;
        const lower = line.toLowerCase();
        if (o.filterLoremIpsum && lower.includes('lorem ipsum')) return drop('lorem_ipsum');
        if (o.filterJavascript && lower.includes('javascript')) continue;
        if (o.filterCurlyBracket && line.includes('{')) return drop('curly_bracket');
        if (o.filterPolicy && POLICY.some((p) => lower.includes(p))) continue;
        if (o.minNumSentences !== -1) sentences += o.splitParagraph ? splitSentences(line).length : 1;
        kept.push(line);
      }
      if (sentences < o.minNumSentences) return drop('too_few_sentences', sentences);
      const text = kept.join(o.splitParagraph ? '\n' : ' ').trim();
      return text === doc.text ? doc : { ...doc, text };
    },
  };
}

function endsWithTerminal(line: string): boolean {
  const c = line.charCodeAt(line.length - 1);
  return c === 46 || c === 63 || c === 33 || c === 34 || c === 39;
}
