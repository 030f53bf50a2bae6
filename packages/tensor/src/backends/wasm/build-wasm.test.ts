// The committed kernels-wasm.generated.ts must be exactly what build-wasm.mjs makes from c/*.c.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const clang = process.env.CLANG ?? 'clang-14';
const haveClang = spawnSync(clang, ['--version']).status === 0;

const title = haveClang ? 'generated modules are reproducible from the C source' : `generated module reproducibility (skipped: ${clang} not installed)`;

test.skipIf(!haveClang)(title, () => {
  const script = fileURLToPath(new URL('./build-wasm.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  expect(out).toContain('matches a fresh build');
});
