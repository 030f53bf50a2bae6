// Bundles a TypeScript entry (and the @lmkit/* sources it imports) into one ES module, so worker threads and child processes can run source in tests and benches.
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** `@lmkit/<name>` → `packages/<name>/src/index.ts`, like the vitest config. */
function aliasesFor(packagesDir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(packagesDir)
      .filter((name) => existsSync(`${packagesDir}/${name}/src/index.ts`))
      .map((name) => [`@lmkit/${name}`, `${packagesDir}/${name}/src/index.ts`]),
  );
}

/**
 * Writes `entry` bundled as ESM to `outfile` and returns `outfile`. Node built-ins and npm
 * packages stay external; `packagesDir` (default: this repo's packages/) resolves @lmkit/*.
 */
export async function bundleForTest(entry: URL | string, outfile: string, packagesDir = fileURLToPath(new URL('../../', import.meta.url))): Promise<string> {
  const alias = aliasesFor(packagesDir.replace(/\/$/, ''));
  await build({
    entryPoints: [typeof entry === 'string' ? entry : fileURLToPath(entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    alias,
    packages: 'external',
    logLevel: 'silent',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}
