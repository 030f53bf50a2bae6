// @lmkit/infer public API (filled in by its issue).
export {};
