// Type-checks every runnable ```ts block of docs/guides/*.md against the packages' sources (tsc, strict), naming the guide and block.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractTsBlocks } from './code-blocks.mjs';

const docs = fileURLToPath(new URL('..', import.meta.url));
const root = join(docs, '..');
const outDir = join(docs, '.snippets');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

/** @type {Record<string, string>} snippet file → "guide block N (line L)" */
const origin = {};
for (const guide of readdirSync(join(docs, 'guides')).filter((n) => n.endsWith('.md')).sort()) {
  for (const block of extractTsBlocks(readFileSync(join(docs, 'guides', guide), 'utf8'), `docs/guides/${guide}`)) {
    if (!block.runnable) continue;
    const name = `${guide.replace(/\.md$/, '')}-block-${block.index}.ts`;
    // NOTE: `export {}` makes each block a module, so top-level await and names stay per block.
    writeFileSync(join(outDir, name), `${block.code}\nexport {};\n`);
    origin[name] = `docs/guides/${guide} block ${block.index} (line ${block.line})`;
  }
}

/** @type {Record<string, string[]>} */
const paths = {};
for (const pkg of readdirSync(join(root, 'packages'))) {
  if (existsSync(join(root, 'packages', pkg, 'src', 'index.ts'))) paths[`@lmkit/${pkg}`] = [`../../packages/${pkg}/src/index.ts`];
}
writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.base.json',
  compilerOptions: { noEmit: true, baseUrl: '.', paths, typeRoots: ['../../node_modules/@types'] },
  include: ['*.ts'],
}, null, 2));

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
const output = `${result.stdout}${result.stderr}`;
// Name the guide block for each error line that points into a snippet file.
const annotated = output.replace(/(?:^|\n)(?:[^\n]*\/)?\.snippets\/([\w.-]+\.ts)/g, (match, file) => `${match.startsWith('\n') ? '\n' : ''}[${origin[file] ?? file}] ${file}`);
if (result.status !== 0) {
  process.stderr.write(annotated);
  process.exit(result.status ?? 1);
}
console.log(`type-checked ${Object.keys(origin).length} guide blocks`);
