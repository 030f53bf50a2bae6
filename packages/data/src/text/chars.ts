// Fast character classes for the text utilities: ASCII by table lookup, the rest by Unicode property.

const ALNUM = /[\p{L}\p{N}\p{M}]/u;
const ALPHA = /[\p{L}]/u;
const SPACE = /\s/u;

/** Bit flags per ASCII code unit: 1 = letter, 2 = digit, 4 = whitespace, 8 = uppercase. */
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z]/.test(ch)) ASCII[c] |= 1;
  if (/[0-9]/.test(ch)) ASCII[c] |= 2;
  if (/\s/.test(ch)) ASCII[c] |= 4;
  if (/[A-Z]/.test(ch)) ASCII[c] |= 8;
}

/** True when the UTF-16 code unit `c` (with its string for non-ASCII) is a letter, digit or combining mark. */
export function isWordChar(c: number): boolean {
  if (c < 128) return (ASCII[c] & 3) !== 0;
  if (c >= 0xd800 && c <= 0xdfff) return true; // NOTE: astral letters (CJK ext., etc.) count as word chars.
  return ALNUM.test(String.fromCharCode(c));
}

/** True when the code unit is a letter (any script). */
export function isAlphaChar(c: number): boolean {
  if (c < 128) return (ASCII[c] & 1) !== 0;
  if (c >= 0xd800 && c <= 0xdfff) return true;
  return ALPHA.test(String.fromCharCode(c));
}

/** True when the code unit is an ASCII digit. */
export function isDigitChar(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True when the code unit is whitespace (Unicode `\s`). */
export function isSpaceChar(c: number): boolean {
  if (c < 128) return (ASCII[c] & 4) !== 0;
  return SPACE.test(String.fromCharCode(c));
}

/** True when the code unit is an uppercase letter (ASCII fast path, Unicode otherwise). */
export function isUpperChar(c: number): boolean {
  if (c < 128) return (ASCII[c] & 8) !== 0;
  const ch = String.fromCharCode(c);
  return ch !== ch.toLowerCase() && ch === ch.toUpperCase();
}
