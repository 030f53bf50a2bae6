import { defineConfig } from 'tsup';

export default defineConfig({
  // worker-main is the entry of local worker processes; it must sit next to index.js.
  entry: { index: 'src/index.ts', 'worker-main': 'src/pipeline/worker-main.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
