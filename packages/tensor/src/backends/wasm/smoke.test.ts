import { test, expect } from 'vitest';
import { initWasmKernels, sgemm, wasmInfo } from './index';
test('smoke', async () => {
  await initWasmKernels({ threads: 2 });
  console.log(wasmInfo());
  const m = 200, n = 300, k = 150;
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
  const c = new Float32Array(m * n);
  sgemm({ m, n, k, a, b, c });
  let err = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) { let s = 0; for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j]; err = Math.max(err, Math.abs(s - c[i * n + j])); }
  console.log('err', err);
  expect(err).toBeLessThan(1e-3);
});
