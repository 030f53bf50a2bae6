// @lmkit/model public API (filled in by its issue).
export {};
