// Byte helpers: latin1 keys for byte strings, base64, and splitting bytes into valid UTF-8 and invalid runs.

/** A JS string holding one char per byte (char code = byte), usable as a Map key. */
export function bytesKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** The bytes of a {@link bytesKey} string. */
export function keyBytes(key: string): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'));
}

/** Standard base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes strict standard base64, or returns undefined when `text` is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 if the bytes there are not one. */
function validSequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = b.length;
  const cont = (k: number): boolean => i + k < n && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/**
 * Splits bytes into alternating runs: `valid` runs are well-formed UTF-8 (decoded to a string),
 * the others are the exact bytes that are not. Concatenating the runs' bytes gives back the input.
 */
export function* utf8Runs(bytes: Uint8Array): Generator<{ valid: true; text: string } | { valid: false; bytes: Uint8Array }> {
  const decoder = new TextDecoder('utf-8');
  let i = 0;
  let runStart = 0;
  const n = bytes.length;
  while (i < n) {
    if (bytes[i] < 0x80) {
      i++;
      continue;
    }
    const len = validSequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (i > runStart) yield { valid: true, text: decoder.decode(bytes.subarray(runStart, i)) };
    const badStart = i;
    while (i < n && bytes[i] >= 0x80 && validSequenceLength(bytes, i) === 0) i++;
    yield { valid: false, bytes: bytes.subarray(badStart, i) };
    runStart = i;
  }
  if (n > runStart) yield { valid: true, text: decoder.decode(bytes.subarray(runStart, n)) };
}

const encoder = new TextEncoder();
/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
