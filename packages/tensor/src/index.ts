// @lmkit/tensor public API (filled in by its issue).
export {};
