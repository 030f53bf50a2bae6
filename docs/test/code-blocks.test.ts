// Tests for the guide code-block extractor: which blocks run, their line numbers, unclosed fences.
import { describe, expect, it } from 'vitest';
import { extractTsBlocks } from '../scripts/code-blocks.mjs';

describe('extractTsBlocks', () => {
  it('returns ts blocks with their opening line and marks no-run ones', () => {
    const md = ['# T', '```ts', 'a()', '```', '```sh', 'ls', '```', '```ts no-run', 'b()', 'c()', '```', '````typescript', '```', '````'].join('\n');
    const blocks = extractTsBlocks(md);
    expect(blocks.map((b) => [b.index, b.line, b.runnable, b.code])).toEqual([
      [1, 2, true, 'a()'],
      [2, 8, false, 'b()\nc()'],
      [3, 12, true, '```'],
    ]);
  });

  it('names the line of an unclosed fence', () => {
    expect(() => extractTsBlocks('x\n```ts\nfoo()', 'guides/x.md')).toThrow('guides/x.md:2');
  });
});
