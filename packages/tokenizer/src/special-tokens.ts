// Special-token policy as in tiktoken: which special strings in the text become special ids, and which are errors.
import { TokenizerError } from './errors.js';

/** How special-token strings in the input are treated (tiktoken's semantics). */
export interface SpecialTokenOptions {
  /** Special tokens encoded as their id when they appear in the text: 'all' or a list. Default: none. */
  allowedSpecial?: 'all' | Iterable<string>;
  /**
   * Special tokens whose appearance in the text is an error: 'all' (every special token not
   * allowed) or a list; `[]` encodes them as ordinary text. Default: 'all'.
   */
  disallowedSpecial?: 'all' | Iterable<string>;
}

const escape = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A regex alternation matching any of `tokens` (longest first), or undefined when there are none. */
export function specialRegex(tokens: Iterable<string>): RegExp | undefined {
  const list = [...tokens].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return list.length ? new RegExp(list.map(escape).join('|'), 'gu') : undefined;
}

/** Resolved policy: the allowed specials and a regex that finds disallowed ones. */
export interface SpecialPolicy {
  allowed: string[];
  allowedRe: RegExp | undefined;
  disallowedRe: RegExp | undefined;
}

/** Resolves options against the tokenizer's special tokens, rejecting names it does not have. */
export function resolvePolicy(specials: ReadonlyMap<string, number>, options: SpecialTokenOptions = {}): SpecialPolicy {
  const check = (list: Iterable<string>, field: string): string[] => {
    const out = [...list];
    for (const t of out) {
      if (!specials.has(t)) {
        throw new TokenizerError('TOKENIZER_BAD_OPTION', `${field}: "${t}" is not a special token of this tokenizer`, {
          hint: `its special tokens are: ${[...specials.keys()].join(', ') || '(none)'}`,
          details: { field, token: t },
        });
      }
    }
    return out;
  };
  const allowed = options.allowedSpecial === 'all' ? [...specials.keys()] : check(options.allowedSpecial ?? [], 'allowedSpecial');
  const allowedSet = new Set(allowed);
  const disallowed =
    options.disallowedSpecial === undefined || options.disallowedSpecial === 'all'
      ? [...specials.keys()].filter((t) => !allowedSet.has(t))
      : check(options.disallowedSpecial, 'disallowedSpecial');
  return { allowed, allowedRe: specialRegex(allowed), disallowedRe: specialRegex(disallowed) };
}

/** Throws TOKENIZER_DISALLOWED_SPECIAL naming the token and its offset if `text` holds a disallowed special. */
export function assertNoDisallowed(text: string, policy: SpecialPolicy): void {
  const re = policy.disallowedRe;
  if (re === undefined) return;
  re.lastIndex = 0;
  const m = re.exec(text);
  if (m) {
    throw new TokenizerError('TOKENIZER_DISALLOWED_SPECIAL', `the text contains the special token "${m[0]}" at offset ${m.index}, which is disallowed`, {
      hint: `pass allowedSpecial: ['${m[0]}'] (or 'all') to encode it as a special token, or disallowedSpecial: [] to encode it as plain text`,
      details: { token: m[0], offset: m.index },
    });
  }
}
