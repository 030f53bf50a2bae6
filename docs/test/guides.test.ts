// Runs every ```ts block of docs/guides/*.md (except ```ts no-run) with @lmkit/* resolved to the packages' sources.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { extractTsBlocks } from '../scripts/code-blocks.mjs';

const guidesDir = fileURLToPath(new URL('../guides/', import.meta.url));
const guides = readdirSync(guidesDir).filter((name) => name.endsWith('.md')).sort();
const workRoot = mkdtempSync(join(tmpdir(), 'lmkit-docs-'));
const startDir = process.cwd();

afterAll(() => {
  process.chdir(startDir);
  rmSync(workRoot, { recursive: true, force: true });
});

it('finds the guides', () => {
  expect(guides.length).toBeGreaterThan(0);
});

for (const guide of guides) {
  const blocks = extractTsBlocks(readFileSync(join(guidesDir, guide), 'utf8'), `docs/guides/${guide}`);
  // NOTE: the blocks of one guide share a working directory, so a later block can read what an earlier one wrote.
  const guideDir = join(workRoot, guide.replace(/\.md$/, ''));
  describe(`docs/guides/${guide}`, () => {
    for (const block of blocks.filter((b) => b.runnable)) {
      it(`block ${block.index} (line ${block.line})`, async () => {
        mkdirSync(guideDir, { recursive: true });
        const file = join(guideDir, `block-${block.index}.ts`);
        writeFileSync(file, `${block.code}\nexport {};\n`);
        process.chdir(guideDir);
        try {
          await import(/* @vite-ignore */ file);
        } catch (error) {
          const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
          throw new Error(`docs/guides/${guide} block ${block.index} (line ${block.line}) threw:\n${detail}`);
        } finally {
          process.chdir(startDir);
        }
      });
    }
  });
}
