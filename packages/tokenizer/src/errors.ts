// The typed error every @lmkit/tokenizer failure throws, with stable TOKENIZER_* codes.
import { LmkitError, type LmkitErrorOptions } from '@lmkit/core';

/**
 * Stable codes: TOKENIZER_BAD_OPTION, TOKENIZER_EMPTY_CORPUS, TOKENIZER_VOCAB_TOO_SMALL,
 * TOKENIZER_DISALLOWED_SPECIAL, TOKENIZER_UNKNOWN_ENCODING, TOKENIZER_BAD_FILE,
 * TOKENIZER_BAD_PATTERN, TOKENIZER_MISSING_BYTES, TOKENIZER_UNKNOWN_TOKEN, TOKENIZER_FREED.
 */
export type TokenizerErrorCode =
  | 'TOKENIZER_BAD_OPTION'
  | 'TOKENIZER_EMPTY_CORPUS'
  | 'TOKENIZER_VOCAB_TOO_SMALL'
  | 'TOKENIZER_DISALLOWED_SPECIAL'
  | 'TOKENIZER_UNKNOWN_ENCODING'
  | 'TOKENIZER_BAD_FILE'
  | 'TOKENIZER_BAD_PATTERN'
  | 'TOKENIZER_MISSING_BYTES'
  | 'TOKENIZER_UNKNOWN_TOKEN'
  | 'TOKENIZER_FREED';

/** An error from @lmkit/tokenizer; `code` says which kind, the message names the input. */
export class TokenizerError extends LmkitError {
  declare readonly code: TokenizerErrorCode;
  constructor(code: TokenizerErrorCode, message: string, options: LmkitErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The error for a malformed tokenizer file: names the file, the line and the field. */
export function badFile(file: string, line: number | undefined, field: string, problem: string, hint?: string): TokenizerError {
  const where = line === undefined ? file : `${file}:${line}`;
  return new TokenizerError('TOKENIZER_BAD_FILE', `${where}: ${field}: ${problem}`, {
    hint: hint ?? 'the file is corrupt or not in the expected format; re-export it or check how it was written',
    details: { file, ...(line === undefined ? {} : { line }), field },
  });
}
