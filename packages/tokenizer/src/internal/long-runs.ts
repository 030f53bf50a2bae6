// Finds the stretches of text where a split piece could be long, so only those are split in JS.

/** 0: not white space, 1: white space that may start a piece after a non-space, 2: a line break. */
function kind(c: number): number {
  if (c === 32 || c === 9) return 1;
  if (c > 32 && c < 127) return 0;
  if (c === 10 || c === 13) return 2;
  if (c === 11 || c === 12) return 1;
  if (c < 0x85) return 0;
  if (c === 0x85 || c === 0x2028 || c === 0x2029) return 2;
  if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000) return 1;
  return 0;
}

/**
 * Returns [start, end) ranges (UTF-16 offsets, flattened) of stretches with at least `minUnits`
 * code units and no "safe boundary" (a non-space followed by a space or tab) inside. With the
 * OpenAI/GPT-4 patterns every safe boundary is a piece boundary, so a piece of ≥ 3·minUnits bytes
 * can only lie inside a returned range, and cutting the text at range ends keeps pieces intact.
 */
export function findLongStretches(text: string, minUnits: number): number[] {
  const ranges: number[] = [];
  let segStart = 0;
  let prevNon = false;
  let open = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const k = kind(text.charCodeAt(i));
    if (k === 1 && prevNon) {
      if (open) {
        ranges.push(i);
        open = false;
      }
      segStart = i;
    } else if (!open && i - segStart + 1 >= minUnits) {
      ranges.push(segStart);
      open = true;
    }
    prevNon = k === 0;
  }
  if (open) ranges.push(n);
  return ranges;
}
