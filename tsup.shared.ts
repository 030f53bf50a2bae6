// Shared tsup settings: every package builds ESM + type declarations for Node 20 from src/index.ts.
import { defineConfig, type Options } from 'tsup';

/** The tsup config every package uses; `overrides` adds entries or package-specific settings. */
export function lmkitTsupConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...overrides,
  });
}
