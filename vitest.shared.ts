// Shared vitest settings: tests run on source, and @lmkit/* imports resolve to each package's src/index.ts.
import { fileURLToPath } from 'node:url';
import { readdirSync, existsSync } from 'node:fs';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** `@lmkit/<name>` → `packages/<name>/src/index.ts` for every package that has one. */
export const lmkitAliases: Record<string, string> = Object.fromEntries(
  readdirSync(`${root}packages`)
    .filter((name) => existsSync(`${root}packages/${name}/src/index.ts`))
    .map((name) => [`@lmkit/${name}`, `${root}packages/${name}/src/index.ts`]),
);

/** The vitest config every package uses; pass overrides for package-specific settings. */
export function lmkitVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  return defineConfig({
    ...overrides,
    resolve: { alias: lmkitAliases, ...(overrides.resolve ?? {}) },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...(overrides.test ?? {}),
    },
  });
}
