// @lmkit/tokenizer public API (filled in by its issue).
export {};
