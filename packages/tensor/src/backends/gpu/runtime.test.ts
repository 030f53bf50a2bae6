// The gpu runtime reports the kernel class it really got and refuses gpu.js's silent fallbacks.
import { describe, expect, it } from 'vitest';
import { TensorError } from '../../errors.js';
import { checkKernelClass, GpuRuntime } from './runtime.js';
import { gpuTestEnv, upView, down } from './test-support.js';
import type { GpuStorage } from './storage.js';
import { matmul } from './kernels/matmul.js';
import { unary } from './kernels/elementwise.js';
import { softmax } from './kernels/softmax.js';

describe('checkKernelClass', () => {
  it('accepts GL kernel classes for mode gpu', () => {
    for (const cls of ['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']) expect(() => checkKernelClass('gpu', cls)).not.toThrow();
  });

  it('refuses gpu.js falling back to WebAssembly or the CPU when the gpu mode was asked for', () => {
    for (const cls of ['WebAssemblyKernel', 'CPUKernel']) {
      let err: unknown;
      try {
        checkKernelClass('gpu', cls);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TensorError);
      expect((err as TensorError).code).toBe('TENSOR_GPU_UNAVAILABLE');
      expect((err as TensorError).message).toContain(`fell back to ${cls}`);
      expect((err as TensorError).hint).toMatch(/xvfb-run|ensureDisplay/);
      expect((err as TensorError).hint).toMatch(/'gl' package/);
      expect((err as TensorError).hint).toContain("setBackend('cpu')");
    }
  });

  it('accepts a CPU mode only when it was named, and the named class only', () => {
    expect(() => checkKernelClass('webasm', 'WebAssemblyKernel')).not.toThrow();
    expect(() => checkKernelClass('cpu', 'CPUKernel')).not.toThrow();
    expect(() => checkKernelClass('headlessgl', 'CPUKernel')).toThrow(/asked for HeadlessGLKernel but gpu.js built CPUKernel/);
    expect(() => checkKernelClass('webasm', 'CPUKernel')).toThrow(TensorError);
  });
});

describe('the explicit cpu opt-in mode', () => {
  it('reports CPUKernel, not a GPU, and still computes correctly', () => {
    const rt = new GpuRuntime({ mode: 'cpu' });
    expect(rt.info).toMatchObject({ requestedMode: 'cpu', kernelClass: 'CPUKernel', mode: 'cpu', onGl: false, renderer: null });
    const a = upView(rt, [1, 2, 3, 4, 5, 6], [2, 3]);
    const b = upView(rt, [1, 0, 0, 1, 1, 1], [3, 2]);
    expect(down(rt, matmul(rt, a, b))).toEqual([4, 5, 10, 11]);
    expect(down(rt, unary(rt, 'relu', upView(rt, [-1, 2], [2])))).toEqual([0, 2]);
    const sm = down(rt, softmax(rt, upView(rt, [0, Math.log(3)], [1, 2])));
    expect(sm[0]).toBeCloseTo(0.25, 6);
    rt.destroy();
  });
});

const env = await gpuTestEnv();
describe.skipIf(env.rt === null)(`the GL runtime${env.reason ? ` — skipped: ${env.reason}` : ''}`, () => {
  it('reports a GL kernel class, single precision and a 23-bit highp float', () => {
    const i = env.rt!.info;
    expect(i.onGl).toBe(true);
    expect(['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']).toContain(i.kernelClass);
    expect(i.precision).toBe('single');
    expect(i.shaderFloatBits).toBe(23);
    expect(i.maxTextureSize).toBeGreaterThanOrEqual(4096);
  });

  it('throws instead of accepting gpu.js swapping a kernel for its CPU fallback', () => {
    // vec4 outputs need float textures; under 'unsigned' gpu.js silently reruns such a kernel on the CPU.
    const rt = new GpuRuntime({ mode: 'gpu', precision: 'unsigned' });
    const warn = console.warn;
    console.warn = () => {};
    try {
      expect(() => rt.run({ key: 'vec4-probe', source: 'function(a) { return [a[0], 1, 2, 3]; }', output: [2], returnType: 'Array(4)' }, [new Float32Array(4)]))
        .toThrow(/fell back from HeadlessGLKernel to CPUKernel|fell back from WebGL2?Kernel to CPUKernel/);
    } finally {
      console.warn = warn;
      rt.destroy();
    }
  });

  it('evicts least-recently-used kernels past maxKernels; their outputs stay readable and are freed on release', () => {
    const rt = new GpuRuntime({ mode: 'gpu', maxKernels: 2 });
    const gl = (rt as unknown as { gpu: { context: WebGLRenderingContext } }).gpu.context;
    const x = upView(rt, [1, -2, 3], [3]);
    const outs = ['neg', 'abs', 'exp', 'relu'].map((name) => unary(rt, name, x) as GpuStorage);
    expect(rt.compiledKernels).toBe(2);
    expect(down(rt, outs[0])).toEqual([-1, 2, -3]); // its kernel ('neg') was destroyed meanwhile
    expect(down(rt, outs[1])).toEqual([1, 2, 3]);
    const glTextures = outs.map((o) => (o.handle as unknown as { texture: WebGLTexture }).texture);
    for (const o of outs) o.release();
    // Outputs of evicted kernels are gone at once; a cached kernel keeps its last output texture
    // (to render its next call into) until it is evicted too.
    expect(gl.isTexture(glTextures[0]!)).toBe(false);
    expect(gl.isTexture(glTextures[1]!)).toBe(false);
    expect(gl.isTexture(glTextures[3]!)).toBe(true);
    for (const name of ['sqrt', 'tanh']) (unary(rt, name, x) as GpuStorage).release();
    expect(gl.isTexture(glTextures[2]!)).toBe(false);
    expect(gl.isTexture(glTextures[3]!)).toBe(false);
    rt.destroy();
  });
});
