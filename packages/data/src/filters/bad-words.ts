// The LDNOOBW bad-words list (npm `naughty-words`) as a fast matcher with C4's `\W`-bounded semantics.
import { createRequire } from 'node:module';
import { DataError } from '../errors.js';

const require = createRequire(import.meta.url);
// NOTE: C4 matches these languages as substrings: they do not separate words with spaces.
const SUBSTRING_LANGUAGES = new Set(['ja', 'th', 'zh']);

/** A compiled bad-words list. */
export interface BadWords {
  /** The first listed word or phrase found in `text` (case-insensitive), or undefined. */
  find(text: string): string | undefined;
}

/**
 * Builds a matcher from a word list: single words by set lookup on `\w+` runs, multi-word phrases by
 * extending a run across single spaces, phrases with symbols (`s&m`) by bounded `indexOf`. Linear in the
 * text, no backtracking regex.
 */
export function compileBadWords(list: readonly string[], substring = false): BadWords {
  const words = list.map((w) => w.toLowerCase().trim()).filter((w) => w.length > 0);
  if (substring) {
    return { find: (text) => { const t = text.toLowerCase(); return words.find((w) => t.includes(w)); } };
  }
  const plain = new Set<string>();
  const firstWords = new Set<string>();
  const symbolic: string[] = [];
  let maxPhrase = 1;
  for (const w of words) {
    if (/^[\p{L}\p{N}_]+( [\p{L}\p{N}_]+)*$/u.test(w)) {
      plain.add(w);
      const parts = w.split(' ');
      if (parts.length > 1) firstWords.add(parts[0]);
      maxPhrase = Math.max(maxPhrase, parts.length);
    } else symbolic.push(w);
  }
  const run = /[\p{L}\p{N}_]+/gu;
  return {
    find(text) {
      const t = text.toLowerCase();
      run.lastIndex = 0;
      const runs: Array<[number, number]> = [];
      for (let m = run.exec(t); m !== null; m = run.exec(t)) runs.push([m.index, m.index + m[0].length]);
      for (let i = 0; i < runs.length; i++) {
        const w = t.slice(runs[i][0], runs[i][1]);
        if (plain.has(w)) return w;
        if (!firstWords.has(w)) continue;
        let phrase = w;
        for (let k = i + 1; k < runs.length && k - i < maxPhrase; k++) {
          if (runs[k][0] !== runs[k - 1][1] + 1 || t.charCodeAt(runs[k - 1][1]) !== 32) break;
          phrase += ' ' + t.slice(runs[k][0], runs[k][1]);
          if (plain.has(phrase)) return phrase;
        }
      }
      for (const w of symbolic) {
        for (let at = t.indexOf(w); at !== -1; at = t.indexOf(w, at + 1)) {
          if (isBoundary(t, at - 1) && isBoundary(t, at + w.length)) return w;
        }
      }
      return undefined;
    },
  };
}

function isBoundary(t: string, i: number): boolean {
  return i < 0 || i >= t.length || !/[\p{L}\p{N}_]/u.test(t[i]);
}

const cache = new Map<string, BadWords>();

/** Loads and compiles the `naughty-words` list for a language code (`en`, `de`, `ja`, ...). */
export function loadBadWords(language: string): BadWords {
  let m = cache.get(language);
  if (m !== undefined) return m;
  let list: string[];
  try {
    list = require(`naughty-words/${language}.json`) as string[];
  } catch (cause) {
    throw new DataError('DATA_NO_BAD_WORDS', `no bad-words list for language "${language}" in naughty-words`, {
      hint: 'use a language naughty-words ships (en, de, fr, es, ja, zh, ...) or disable the rule (badWordsLanguage: false)',
      details: { language },
      cause,
    });
  }
  m = compileBadWords(list, SUBSTRING_LANGUAGES.has(language));
  cache.set(language, m);
  return m;
}
