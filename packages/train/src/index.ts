// @lmkit/train public API (filled in by its issue).
export {};
