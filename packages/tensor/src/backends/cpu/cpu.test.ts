// cpu-specific checks: the JS reference kernels and the wasm ones both pass matmul/attention/softmax conformance, with many attention tiles.
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo, conformanceCases, runConformanceCase, useJsKernels, useWasmKernels } from '../../index.js';
import { setAttentionDecodePath, setAttentionTiles } from './kernels/attention.js';

// Cases whose cpu kernels differ between the JS loops and the wasm kernels.
const gemmCases = conformanceCases.filter((c) => ['matmul', 'attention', 'softmax', 'gelu', 'gelu_grad', 'cross_entropy_grad', 'add'].some((k) => c.kernels.includes(k as 'matmul')));

describe('cpu backend GEMMs', () => {
  afterAll(() => {
    setAttentionTiles(128, 128);
    setAttentionDecodePath(true);
    useWasmKernels();
  });

  it('starts on the wasm SIMD GEMM and says so', () => {
    expect(useWasmKernels()).toBe(true);
    expect(backendInfo().mode).toMatch(/^wasm-simd/);
  });

  for (const gemm of ['js', 'wasm'] as const) {
    for (const tiles of [128, 8]) {
      it.each(gemmCases.map((c) => [c.name.split(':')[0], c] as const))(`%s on the ${gemm} GEMM with ${tiles}×${tiles} attention tiles`, (_n, c) => {
        if (gemm === 'js') useJsKernels();
        else useWasmKernels();
        setAttentionTiles(tiles, tiles);
        const r = runConformanceCase(c, 'cpu');
        expect(r.reason ?? '').toBe('');
        expect(backendInfo().mode).toMatch(gemm === 'js' ? /^js$/ : /^wasm-simd/);
      });
    }
    // Small-T attention on the tiled kernel too (the decode path is on above): both must match the reference.
    it(`attention with the decode path off on the ${gemm} GEMM`, () => {
      if (gemm === 'js') useJsKernels();
      else useWasmKernels();
      setAttentionTiles(8, 8);
      setAttentionDecodePath(false);
      try {
        const c = gemmCases.find((x) => x.kernels.includes('attention'))!;
        expect(runConformanceCase(c, 'cpu').reason ?? '').toBe('');
      } finally {
        setAttentionDecodePath(true);
      }
    });
  }
});
