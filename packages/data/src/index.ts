// @lmkit/data public API (filled in by its issue).
export {};
