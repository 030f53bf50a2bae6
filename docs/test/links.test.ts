// Checks that every relative link in the docs' Markdown pages points to a file that exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const docs = fileURLToPath(new URL('..', import.meta.url));
const pages = [
  ...readdirSync(docs).filter((n) => n.endsWith('.md')).map((n) => join(docs, n)),
  ...readdirSync(join(docs, 'guides')).filter((n) => n.endsWith('.md')).map((n) => join(docs, 'guides', n)),
];

it('resolves every relative Markdown link', () => {
  const broken: string[] = [];
  for (const page of pages) {
    const text = readFileSync(page, 'utf8').replace(/```[\s\S]*?```/g, ''); // links inside code blocks are code
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
      const file = target!.split('#')[0]!;
      if (!existsSync(join(dirname(page), file))) broken.push(`${relative(docs, page)} → ${target}`);
    }
  }
  expect(broken).toEqual([]);
});
