// Split patterns: the common ones, and translation of tiktoken/Rust regex syntax to a Node RegExp.
import { TokenizerError } from './errors.js';

/** GPT-4's (cl100k_base) split pattern as minbpe writes it, with possessive quantifiers: the training default. */
export const GPT4_SPLIT_PATTERN =
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";

/** GPT-2's split pattern (also r50k_base and p50k_base). */
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const cache = new Map<string, string>();

/** Unicode White_Space, which is what `\s` means in Rust's regex (JS's `\s` adds U+FEFF and lacks U+0085). */
const WS = '\\p{White_Space}';
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';

/** Every character that matches `ch` case-insensitively under simple case folding (as Rust's `(?i)` does). */
function caseVariants(ch: string): string[] {
  const candidates = new Set([ch, ch.toLowerCase(), ch.toUpperCase(), '\u212A', '\u017F', '\u212B', '\u2126', '\u1E9E', '\u00DF']);
  const re = new RegExp(`^${ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}$`, 'iu');
  return [...candidates].filter((c) => [...c].length === 1 && re.test(c));
}

function badPattern(pattern: string, at: number, problem: string): TokenizerError {
  return new TokenizerError('TOKENIZER_BAD_PATTERN', `split pattern at offset ${at}: ${problem}`, {
    hint: 'use tiktoken/Rust regex syntax: classes, \\p{..}, groups, (?i:..), greedy or possessive quantifiers',
    details: { pattern, offset: at },
  });
}

/**
 * Translates a tiktoken (Rust `fancy-regex`) split pattern to the source of an equivalent Node 20
 * RegExp with the `u` flag. The original string stays the tokenizer's pattern; this is only how it
 * runs in JS. Handles possessive quantifiers (`x++`, `x?+`, `x*+`, `x{n,m}+`, emulated with
 * `(?=(x+))\k<..>`), `(?i:...)` groups (letters become case-variant classes), and Rust's meaning of
 * `\s`, `\d`, `\w` and `.`.
 *
 * @example new RegExp(translatePattern(GPT4_SPLIT_PATTERN), 'gu')
 */
export function translatePattern(pattern: string): string {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let out = '';
  let atomStart = -1; // where the last complete atom starts in `out`
  const groups: { start: number; ci: boolean }[] = [];
  let ci = false;
  let named = 0;
  let i = 0;
  const n = pattern.length;
  const escape = (inClass: boolean): string => {
    const c = pattern[i + 1];
    if (c === undefined) throw badPattern(pattern, i, 'trailing backslash');
    if (c === 'p' || c === 'P') {
      const close = pattern.indexOf('}', i);
      if (pattern[i + 2] !== '{' || close < 0) {
        const s = pattern.slice(i, i + 3); // \pL form
        i += 3;
        return `\\${c}{${s[2]}}`;
      }
      const s = pattern.slice(i, close + 1);
      i = close + 1;
      return s;
    }
    if (/[1-9]/.test(c)) throw badPattern(pattern, i, 'numbered back-references are not supported');
    i += 2;
    if (c === 's') return inClass ? WS : `[${WS}]`;
    if (c === 'S') return inClass ? `\\P{White_Space}` : `\\P{White_Space}`;
    if (c === 'd') return '\\p{Nd}';
    if (c === 'D') return '\\P{Nd}';
    if (c === 'w') return inClass ? WORD : `[${WORD}]`;
    if (c === 'W') {
      if (inClass) throw badPattern(pattern, i - 2, '\\W inside a character class is not supported');
      return `[^${WORD}]`;
    }
    if (c === 'x' || c === 'u') {
      const m = /^\\[xu](\{[0-9a-fA-F]+\}|[0-9a-fA-F]{2,4})/.exec(pattern.slice(i - 2));
      if (!m) throw badPattern(pattern, i - 2, 'bad hex escape');
      i += m[0].length - 2;
      const hex = m[1].startsWith('{') ? m[1].slice(1, -1) : m[1];
      return `\\u{${hex}}`;
    }
    if (/[A-Za-z0-9]/.test(c) && !'tnrfvbB0'.includes(c)) throw badPattern(pattern, i - 2, `escape \\${c} is not supported`);
    if (/[A-Za-z0-9]/.test(c)) return `\\${c}`;
    // NOTE: the u flag rejects escapes of characters that are not syntax, so escape only syntax characters.
    return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
  };
  const literal = (c: string): string => {
    if (ci && c.toLowerCase() !== c.toUpperCase()) return `[${caseVariants(c).join('')}]`;
    return c;
  };
  while (i < n) {
    const c = pattern[i];
    if (c === '\\') {
      atomStart = out.length;
      const e = escape(false);
      out += ci && e.length === 1 ? literal(e) : e;
    } else if (c === '[') {
      atomStart = out.length;
      let cls = '[';
      i++;
      if (pattern[i] === '^') (cls += '^'), i++;
      if (pattern[i] === ']') (cls += '\\]'), i++;
      while (i < n && pattern[i] !== ']') {
        if (pattern[i] === '\\') cls += escape(true);
        else if (pattern[i] === '[') throw badPattern(pattern, i, 'nested character classes are not supported');
        else {
          const ch = pattern[i++];
          cls += ci && ch.toLowerCase() !== ch.toUpperCase() ? caseVariants(ch).join('') : ch === '/' || ch === '|' ? `\\${ch}` : ch;
        }
      }
      if (i >= n) throw badPattern(pattern, i, 'unterminated character class');
      i++;
      out += cls + ']';
    } else if (c === '(') {
      groups.push({ start: out.length, ci });
      if (pattern.startsWith('(?i:', i)) {
        ci = true;
        out += '(?:';
        i += 4;
      } else if (pattern.startsWith('(?:', i) || pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i)) {
        out += pattern.slice(i, i + 3);
        i += 3;
      } else if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        out += pattern.slice(i, i + 4);
        i += 4;
      } else if (pattern.startsWith('(?<', i) || pattern.startsWith('(?P<', i)) {
        const close = pattern.indexOf('>', i);
        out += `(?<${pattern.slice(pattern.indexOf('<', i) + 1, close)}>`;
        i = close + 1;
      } else if (pattern[i + 1] === '?') {
        throw badPattern(pattern, i, `group syntax ${pattern.slice(i, i + 4)} is not supported`);
      } else {
        out += '(';
        i++;
      }
      atomStart = -1;
    } else if (c === ')') {
      const g = groups.pop();
      if (!g) throw badPattern(pattern, i, 'unbalanced )');
      out += ')';
      ci = g.ci;
      atomStart = g.start;
      i++;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let q = c;
      if (c === '{') {
        const m = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
        if (!m) {
          atomStart = out.length;
          out += '\\{';
          i++;
          continue;
        }
        q = m[0];
      }
      i += q.length;
      if (atomStart < 0) throw badPattern(pattern, i - q.length, 'quantifier without anything to repeat');
      if (pattern[i] === '+') {
        // Possessive: match greedily once and never give back, like an atomic group.
        const atom = out.slice(atomStart);
        const name = `lmkitp${named++}`;
        out = `${out.slice(0, atomStart)}(?=(?<${name}>${atom}${q}))\\k<${name}>`;
        i++;
      } else {
        out += q;
        if (pattern[i] === '?') (out += '?'), i++;
      }
      atomStart = -1;
    } else if (c === '.') {
      atomStart = out.length;
      out += '[^\\n]';
      i++;
    } else if (c === '|' || c === '^' || c === '$') {
      out += c;
      atomStart = -1;
      i++;
    } else if (c === '/') {
      atomStart = out.length;
      out += '\\/';
      i++;
    } else {
      atomStart = out.length;
      out += literal(c);
      i++;
    }
  }
  if (groups.length) throw badPattern(pattern, n, 'unbalanced (');
  try {
    new RegExp(out, 'gu');
  } catch (error) {
    throw new TokenizerError('TOKENIZER_BAD_PATTERN', `split pattern does not compile: ${(error as Error).message}`, {
      hint: 'check the pattern syntax',
      details: { pattern, translated: out },
      cause: error,
    });
  }
  cache.set(pattern, out);
  return out;
}

/** A global, unicode RegExp that runs `pattern` (translated) in Node. */
export function compilePattern(pattern: string): RegExp {
  return new RegExp(translatePattern(pattern), 'gu');
}

/**
 * True when `pattern` is known to cut text at every place where a non-space character is
 * followed by a space or tab, and to keep runs short except for runs of one character class.
 * The OpenAI patterns and GPT-4's are; encode then only scans text near long runs.
 */
export function isSpaceBoundaryPattern(pattern: string): boolean {
  return KNOWN_PATTERNS.has(pattern);
}

const KNOWN_PATTERNS = new Set<string>([
  GPT4_SPLIT_PATTERN,
  GPT2_SPLIT_PATTERN,
  "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s",
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s",
  "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
]);
