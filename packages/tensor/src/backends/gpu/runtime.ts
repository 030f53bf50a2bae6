// The gpu.js runtime under the gpu backend: one GPU context, the mode and precision it really got, and a kernel cache.
import { createRequire } from 'node:module';
import type { GPU, IKernelRunShortcut, Texture } from 'gpu.js';
import { TensorError } from '../../errors.js';

/** gpu.js modes the backend accepts. `gpu` picks the best GL available; the others name one kernel class. */
export type GpuMode = 'gpu' | 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';

/** gpu.js kernel classes that really run on a GPU (or on a software GL such as Mesa llvmpipe). */
const GL_KERNELS = new Set(['HeadlessGLKernel', 'WebGL2Kernel', 'WebGLKernel']);

/** Which kernel class each explicit gpu.js mode must produce. */
const MODE_KERNEL: Record<Exclude<GpuMode, 'gpu'>, string> = {
  headlessgl: 'HeadlessGLKernel',
  webgl2: 'WebGL2Kernel',
  webgl: 'WebGLKernel',
  webasm: 'WebAssemblyKernel',
  cpu: 'CPUKernel',
};

/** Options of `createGpuRuntime` (and of `registerGpuBackend`). */
export interface GpuRuntimeOptions {
  /**
   * gpu.js mode. `gpu` (default) requires a GL kernel and throws if only a CPU mode is left;
   * naming `webasm` or `cpu` is the explicit opt-in to run the gpu backend's kernels without a GPU.
   */
  mode?: GpuMode;
  /**
   * gpu.js precision: `single` keeps f32 in float textures (default where OES_texture_float exists);
   * `unsigned` packs each f32 into RGBA8 for devices without float textures: lossy (values move by
   * up to an ulp at every kernel boundary, NaN and ±Inf are not kept) and without the tiled matmul.
   */
  precision?: 'single' | 'unsigned';
  /**
   * Compiled kernels kept (default 512). Each distinct shape/layout compiles its own shaders, and
   * each cached kernel holds on to the texture of its last output (its next call renders into it
   * again once that output is released, a new one while it is in use); past this many the least recently used are destroyed (outputs still in use
   * stay valid), so a growing KV cache or ever-changing shapes cannot grow GL memory without bound.
   */
  maxKernels?: number;
}

/** What the runtime really got, checked on a probe kernel (never what was asked for). */
export interface GpuRuntimeInfo {
  /** The mode asked for. */
  requestedMode: GpuMode;
  /** The kernel class gpu.js built: HeadlessGLKernel, WebGL2Kernel, WebGLKernel, WebAssemblyKernel or CPUKernel. */
  kernelClass: string;
  /** Short mode name derived from the kernel class: headlessgl, webgl2, webgl, webasm, cpu. */
  mode: string;
  /** gpu.js precision in use. */
  precision: 'single' | 'unsigned';
  /** Mantissa bits of the fragment shader's highp float (23 = IEEE f32), null when not on GL. */
  shaderFloatBits: number | null;
  /** GL renderer string (the unmasked device name where the browser exposes it; `ANGLE` under headless-gl), null off GL. */
  renderer: string | null;
  /** GL_MAX_TEXTURE_SIZE, null when not on GL. */
  maxTextureSize: number | null;
  /** True when the kernels run on GL (a GPU or a software rasterizer), false for the CPU opt-in modes. */
  onGl: boolean;
  /** Render targets one kernel can write (WEBGL_draw_buffers / WebGL2), 1 without multiple render targets. */
  drawBuffers: number;
}

/** Live textures made by gpu backend kernels and not yet deleted (a leak shows up here). */
export const textureStats = { live: 0 };

/** Largest element count whose indices stay exact in the shaders' float32 index arithmetic (2^24). */
export const MAX_GPU_ELEMENTS = 16_777_216;

type GpuCtor = new (settings: Record<string, unknown>) => GPU;
let gpuJs: { GPU: GpuCtor } | null = null;

/** Loads gpu.js on first use, so importing @lmkit/tensor never touches GL. */
function loadGpuJs(): { GPU: GpuCtor } {
  if (gpuJs === null) gpuJs = createRequire(import.meta.url)('gpu.js') as { GPU: GpuCtor };
  return gpuJs;
}

/** Settings every pipelined kernel uses: textures in and out, a fresh texture per call, highp in the shader. */
export interface KernelSpec {
  /** Cache key: must change whenever the source or any baked size changes. */
  key: string;
  /** JavaScript function source that gpu.js translates to GLSL (sizes baked in as literals). */
  source: string;
  /** Output size: `[n]` (one float per thread) or `[n]` with `vec4` (four floats per thread). */
  output: number[];
  /** `Array(4)` for kernels that return four floats per thread. */
  returnType?: 'Array(4)';
  /** gpu.js types of the arguments, where inference would pick the wrong one (a whole number passed as a Float uniform). */
  argumentTypes?: string[];
}

/** A gpu.js context with its probed mode, a cache of compiled kernels and upload/download helpers. */
export class GpuRuntime {
  /** What was actually obtained. */
  readonly info: GpuRuntimeInfo;
  private readonly gpu: GPU;
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  private readonly precision: 'single' | 'unsigned';
  private readonly maxKernels: number;

  constructor(options: GpuRuntimeOptions = {}) {
    const requestedMode = options.mode ?? 'gpu';
    const { GPU: Gpu } = loadGpuJs();
    let gpu: GPU;
    try {
      gpu = new Gpu({ mode: requestedMode });
    } catch (cause) {
      throw unavailable(requestedMode, `gpu.js refused mode '${requestedMode}': ${(cause as Error).message}`, cause);
    }
    this.gpu = gpu;
    this.precision = options.precision ?? 'single';
    this.maxKernels = Math.max(1, options.maxKernels ?? 512);
    this.info = this.probe(requestedMode);
  }

  /** Builds and runs a tiny kernel and records which kernel class gpu.js really used. */
  private probe(requestedMode: GpuMode): GpuRuntimeInfo {
    let kernelClass: string;
    let ok = false;
    try {
      const k = this.gpu.createKernel(function (this: { thread: { x: number } }, a: number[]) {
        return a[this.thread.x] * 2;
      }, { output: [3], precision: this.precision, tactic: 'precision' });
      const out = k(new Float32Array([1, 2, 3])) as Float32Array;
      ok = out[0] === 2 && out[1] === 4 && out[2] === 6;
      kernelClass = (k as unknown as { kernel: object }).kernel.constructor.name;
      k.destroy();
    } catch (cause) {
      const message = (cause as Error).message;
      const lossy = /single precision/i.test(message) ? " (this device has no float textures: pass { precision: 'unsigned' } to accept lossy RGBA8 storage)" : '';
      throw unavailable(requestedMode, `the probe kernel failed: ${message}${lossy}`, cause);
    }
    checkKernelClass(requestedMode, kernelClass);
    const onGl = GL_KERNELS.has(kernelClass);
    if (!ok) throw unavailable(requestedMode, `the probe kernel on ${kernelClass} computed wrong values`);
    const gl = onGl ? this.glContext() : null;
    let shaderFloatBits: number | null = null;
    let renderer: string | null = null;
    let maxTextureSize: number | null = null;
    if (gl !== null) {
      shaderFloatBits = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT)?.precision ?? null;
      // NOTE: browsers name the real device through the debug extension; headless-gl has none and reports plain
      // 'ANGLE' (under Xvfb that is Mesa's software llvmpipe, since Xvfb has no GPU).
      const debug = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
      renderer = String(gl.getParameter(debug === null ? gl.RENDERER : debug.UNMASKED_RENDERER_WEBGL));
      maxTextureSize = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE));
    }
    const features = (this.gpu as unknown as { Kernel: { features?: { kernelMap?: boolean; channelCount?: number } } }).Kernel.features;
    const drawBuffers = onGl && features?.kernelMap === true ? Number(features.channelCount ?? 1) : 1;
    return {
      requestedMode, kernelClass, mode: modeName(kernelClass), precision: this.precision, shaderFloatBits, renderer, maxTextureSize, onGl, drawBuffers,
    };
  }

  /** The GL context gpu.js created (shared by all its kernels), or null off GL. */
  private glContext(): WebGLRenderingContext | null {
    return ((this.gpu as unknown as { context: WebGLRenderingContext | null }).context) ?? null;
  }

  /**
   * Returns the compiled kernel for `spec.key`, compiling it on first use. Every kernel is pipelined
   * (returns a texture) and immutable (each call returns a texture the caller owns and must delete).
   * NOTE: outputs are one float per RGBA32F texel (16 bytes per element). gpu.js's
   * `optimizeFloatMemory` packs four per texel but inlines the kernel body four times: measured
   * here it made the gpu test suite 5× slower (shader compiles on llvmpipe) for no speed gain.
   */
  kernel(spec: KernelSpec): IKernelRunShortcut {
    let k = this.cached(spec.key);
    if (k === undefined) {
      k = this.gpu.createKernel(spec.source, {
        output: spec.output,
        pipeline: this.info.onGl,
        immutable: true,
        precision: this.precision,
        tactic: 'precision',
        ...(spec.returnType === undefined ? {} : { returnType: spec.returnType }),
        ...(spec.argumentTypes === undefined ? {} : { argumentTypes: spec.argumentTypes }),
      } as never);
      this.remember(spec.key, k);
    }
    return k;
  }

  /**
   * Runs a cached kernel and checks that gpu.js did not swap it for its CPU fallback (it does that
   * with only a console warning when a shader fails to compile).
   */
  run(spec: KernelSpec, args: unknown[]): Texture {
    const k = this.kernel(spec);
    const out = (k as unknown as (...a: unknown[]) => Texture)(...args);
    if (out !== null && typeof (out as Partial<Texture>).delete === 'function') textureStats.live++;
    this.checkNoFallback(k, spec.key);
    return out;
  }

  /**
   * Runs a kernel that also writes `subKernels.length` extra render targets (gpu.js kernel map:
   * each sub-kernel is an identity function the main source calls with the value to store).
   * Returns [main output, ...sub outputs], every texture owned by the caller.
   */
  runMap(spec: KernelSpec & { subKernels: readonly string[] }, args: unknown[]): Texture[] {
    let k = this.cached(spec.key);
    if (k === undefined) {
      const subs: Record<string, string> = {};
      spec.subKernels.forEach((name, i) => { subs[`s${i}`] = `function ${name}(v) { return v; }`; });
      k = this.gpu.createKernelMap(subs as never, spec.source as never, {
        output: spec.output, pipeline: true, immutable: true, precision: this.precision, tactic: 'precision',
        ...(spec.returnType === undefined ? {} : { returnType: spec.returnType }),
      } as never) as unknown as IKernelRunShortcut;
      this.remember(spec.key, k);
    }
    const out = (k as unknown as (...a: unknown[]) => Record<string, Texture>)(...args);
    const textures = [out.result!, ...spec.subKernels.map((_, i) => out[`s${i}`]!)];
    textureStats.live += textures.length;
    this.checkNoFallback(k, spec.key);
    return textures;
  }

  /** Throws if gpu.js replaced the kernel with another class (its silent CPU fallback after a shader failure). */
  private checkNoFallback(k: IKernelRunShortcut, key: string): void {
    const cls = (k as unknown as { kernel: object }).kernel.constructor.name;
    if (cls !== this.info.kernelClass) {
      throw new TensorError('TENSOR_GPU_UNAVAILABLE', `gpu: kernel '${key}' fell back from ${this.info.kernelClass} to ${cls}`, {
        hint: 'this is a bug in the gpu backend (a shader that did not compile); run the op on the cpu backend meanwhile',
        details: { kernel: key, expected: this.info.kernelClass, got: cls },
      });
    }
  }

  private keeperKernel: { context?: unknown } | null = null;

  /** A small built kernel outside the LRU cache, to host read-backs of textures whose kernel was evicted. */
  private keeper(): { context?: unknown } {
    if (this.keeperKernel === null) {
      const k = this.gpu.createKernel('function(a) { return a[this.thread.x]; }', {
        output: [1], pipeline: true, immutable: true, precision: this.precision, tactic: 'precision',
      } as never);
      deleteTexture((k as unknown as (a: Float32Array) => Texture)(new Float32Array(1)));
      this.keeperKernel = (k as unknown as { kernel: { context?: unknown } }).kernel;
    }
    return this.keeperKernel;
  }

  /** A compiled kernel by key, marked most recently used. */
  private cached(key: string): IKernelRunShortcut | undefined {
    const k = this.kernels.get(key);
    if (k !== undefined) {
      this.kernels.delete(key);
      this.kernels.set(key, k);
    }
    return k;
  }

  /** Caches a new kernel, destroying the least recently used ones past `maxKernels`. */
  private remember(key: string, k: IKernelRunShortcut): void {
    this.kernels.set(key, k);
    for (const [oldKey, old] of this.kernels) {
      if (this.kernels.size <= this.maxKernels) break;
      this.kernels.delete(oldKey);
      evictKernel(old);
    }
  }

  /** Uploads host floats to a new device texture of `data.length` elements. */
  upload(data: Float32Array): Texture {
    const n = data.length;
    return this.run({ key: `upload:${n}`, source: 'function(a) { return a[this.thread.x]; }', output: [n] }, [data]);
  }

  /** Reads a texture of `n` floats back to the host. */
  download(texture: Texture, n: number): Float32Array {
    const t = texture as unknown as { kernel?: { context?: unknown } | null };
    // NOTE: a texture whose kernel was evicted reads back through a kernel that is never evicted.
    if (t.kernel !== null && t.kernel !== undefined && t.kernel.context === undefined) t.kernel = this.keeper();
    const out = texture.toArray() as unknown;
    if (out instanceof Float32Array) return out.length === n ? out : out.slice(0, n);
    // NOTE: off GL (the webasm/cpu opt-in modes) kernels return plain arrays, never textures.
    return Float32Array.from(out as ArrayLike<number>).slice(0, n);
  }

  /** Number of kernels compiled so far (each is one shader program on GL). */
  get compiledKernels(): number {
    return this.kernels.size;
  }

  /** Destroys every kernel and the GL context. Textures still held become invalid. */
  destroy(): void {
    this.kernels.clear();
    void this.gpu.destroy();
  }
}

/**
 * Throws unless gpu.js built the kernel class the mode requires: `gpu` needs a GL class (gpu.js
 * would otherwise silently run on WebAssembly or the CPU); an explicit mode needs its own class.
 */
export function checkKernelClass(requestedMode: GpuMode, kernelClass: string): void {
  if (requestedMode === 'gpu' && !GL_KERNELS.has(kernelClass)) {
    throw unavailable(requestedMode, `gpu.js fell back to ${kernelClass} (no GL context: is an X display or Xvfb running, and did the optional 'gl' package build?)`);
  }
  if (requestedMode !== 'gpu' && MODE_KERNEL[requestedMode] !== kernelClass) {
    throw unavailable(requestedMode, `asked for ${MODE_KERNEL[requestedMode]} but gpu.js built ${kernelClass}`);
  }
}

/**
 * Destroys a compiled kernel but not the textures it returned that are still alive. NOTE: gpu.js's
 * destroy() deletes every texture in the kernel's cache, including outputs handed out earlier
 * (immutable kernels keep their first output texture there), so those are taken out first.
 */
function evictKernel(k: IKernelRunShortcut): void {
  const inner = (k as unknown as { kernel: { textureCache?: { _refs?: number }[] } }).kernel;
  if (Array.isArray(inner.textureCache)) inner.textureCache = inner.textureCache.filter((t) => !((t._refs ?? 0) > 0));
  k.destroy();
}

/** Deletes a texture this module made for itself (not counted in textureStats). */
function deleteTexture(t: Texture): void {
  t.delete();
}

/** Maps a gpu.js kernel class name to the short mode name backendInfo reports. */
function modeName(kernelClass: string): string {
  switch (kernelClass) {
    case 'HeadlessGLKernel': return 'headlessgl';
    case 'WebGL2Kernel': return 'webgl2';
    case 'WebGLKernel': return 'webgl';
    case 'WebAssemblyKernel': return 'webasm';
    case 'CPUKernel': return 'cpu';
    default: return kernelClass;
  }
}

/** The error for "asked for the gpu backend but no usable GL" (TENSOR_UNKNOWN_BACKEND stays for names that are not backends). */
function unavailable(mode: GpuMode, why: string, cause?: unknown): TensorError {
  return new TensorError('TENSOR_GPU_UNAVAILABLE', `gpu backend unavailable (mode '${mode}'): ${why}`, {
    hint: "headless GL in Node needs the optional 'gl' package built (pnpm must allow its build; apt libxi-dev for gl@8) and an X display: "
      + "run under xvfb-run -a, or call ensureDisplay() from @lmkit/tensor (apt xvfb xauth libgl1 libglx-mesa0 libgl1-mesa-dri); "
      + "or opt into a CPU mode explicitly with registerGpuBackend({ mode: 'webasm' }), or use setBackend('cpu')",
    details: { mode },
    ...(cause === undefined ? {} : { cause }),
  });
}
