// Runs the shared conformance suite on the gpu backend (headless GL under Xvfb): every case must pass.
import { describe, expect, it } from 'vitest';
import { conformanceCases, runConformanceCase, backendInfo } from '../../index.js';
import { registerGpuBackend } from './backend.js';
import { gpuTestEnv } from './test-support.js';

const env = await gpuTestEnv();
if (env.rt !== null) registerGpuBackend();

describe.skipIf(env.rt === null)(`conformance on gpu${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  it('backendInfo names the GL mode it really runs on', () => {
    const info = backendInfo('gpu');
    expect(['headlessgl', 'webgl2', 'webgl']).toContain(info.mode);
    expect(info.precision).toBe('f32');
    expect(info.notes?.join(' ')).toMatch(/kernel class (HeadlessGL|WebGL2|WebGL)Kernel, precision 'single'/);
  });

  it.each(conformanceCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = runConformanceCase(c, 'gpu');
    expect(r.reason ?? '').toBe('');
    expect(r.status).toBe('pass');
  });
});
