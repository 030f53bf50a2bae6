// Pipeline configuration: what to read, which steps and de-duplicators to run, where to write; loadable from JSON or YAML.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../errors.js';
import type { Deduplicator, Step } from '../types.js';
import type { OutputCompression } from '../writers/compression.js';

/** A step or de-duplicator named by its registered type, with options (thresholds...) for its factory. */
export interface StepSpec {
  /** Registered type, e.g. `"gopher_quality"`, `"minhash"` (the keys of `stepFactories` / `dedupFactories`). */
  type?: string;
  /** Alias of `type`, as in `DEFAULT_CLEAN_STEPS`. One of the two is required. */
  name?: string;
  /** Options handed to the factory. Default `{}`. */
  options?: Record<string, unknown>;
}

/** A whole pipeline. Everything but `inputs` and `outDir` has a default. */
export interface PipelineConfig {
  /** Input files (JSONL, txt, Parquet, HTML, WARC/WET; `.gz`/`.zst`); their order defines document keys. */
  inputs: string[];
  /** Output directory: `*.jsonl` shards, `excluded/`, `stats/`, `stats.json`, `report.html`, `state/`. */
  outDir: string;
  /** Per-document steps in order: specs (or type names), or Step objects when composed in code (single process only). Default []. */
  steps?: Array<StepSpec | string | Step>;
  /** Corpus-wide de-duplicators run after the steps, in order. Default []. */
  dedup?: Array<StepSpec | string | Deduplicator>;
  /** JSONL/Parquet field with the text. Default `"text"`. */
  textField?: string;
  /** JSONL/Parquet field with the id. Default `"id"`. */
  idField?: string;
  /** `.txt` documents: whole file or blank-line-separated paragraphs. Default `"file"`. */
  txtMode?: 'file' | 'paragraph';
  /** Compression of the output shards. Default `"none"`. */
  compression?: OutputCompression;
  /** Output is committed (with a checkpoint) every time this many bytes are buffered. Default 8 MiB. */
  chunkBytes?: number;
  /** Modules every worker imports first, to register custom steps (`registerStep`). Default []. */
  plugins?: string[];
  /** Keep `state/stage*` intermediate files after a successful run. Default false. */
  keepIntermediate?: boolean;
}

/** True for a spec (or type name) rather than a code-composed Step or Deduplicator object. */
export function isSpec<T extends object>(entry: StepSpec | string | T): entry is StepSpec | string {
  return typeof entry === 'string' || (typeof entry === 'object' && !('process' in entry) && !('cluster' in entry));
}

/** The registered type a spec names (`type`, or its alias `name`). */
export function specType(spec: StepSpec): string {
  return spec.type ?? spec.name ?? '';
}

/** Normalizes a spec given as a bare type name. */
export function toSpec(entry: StepSpec | string): StepSpec {
  return typeof entry === 'string' ? { type: entry } : entry;
}

const KNOWN_KEYS = new Set(['inputs', 'outDir', 'steps', 'dedup', 'textField', 'idField', 'txtMode', 'compression', 'chunkBytes', 'plugins', 'keepIntermediate']);

/** Checks a config's shape and values; throws DATA_BAD_CONFIG naming the field. `source` names the file. */
export function validatePipelineConfig(value: unknown, source = 'config'): PipelineConfig {
  const fail = (field: string, message: string): never => {
    throw new DataError('DATA_BAD_CONFIG', `${source}: ${field} ${message}`, { hint: 'see the PipelineConfig fields in the @lmkit/data README', details: { source, field } });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('(root)', 'must be an object');
  const config = value as Record<string, unknown>;
  for (const key of Object.keys(config)) if (!KNOWN_KEYS.has(key)) fail(key, `is not a known field (known: ${[...KNOWN_KEYS].join(', ')})`);
  if (!Array.isArray(config.inputs) || config.inputs.some((p) => typeof p !== 'string')) fail('inputs', 'must be a list of file paths');
  if (typeof config.outDir !== 'string' || config.outDir === '') fail('outDir', 'must be a directory path');
  for (const list of ['steps', 'dedup'] as const) {
    const entries = config[list];
    if (entries === undefined) continue;
    if (!Array.isArray(entries)) fail(list, 'must be a list');
    (entries as unknown[]).forEach((entry, i) => {
      if (typeof entry === 'string') return;
      if (entry === null || typeof entry !== 'object') fail(`${list}[${i}]`, 'must be a type name or { type, options }');
      const spec = entry as Record<string, unknown>;
      if ('process' in spec || 'cluster' in spec) return; // composed in code
      if (typeof (spec.type ?? spec.name) !== 'string') fail(`${list}[${i}].type`, 'must be a string (the registered type)');
      if (spec.options !== undefined && (typeof spec.options !== 'object' || spec.options === null)) fail(`${list}[${i}].options`, 'must be an object');
    });
  }
  if (config.compression !== undefined && !['none', 'gzip', 'zstd'].includes(config.compression as string)) fail('compression', 'must be none, gzip or zstd');
  if (config.txtMode !== undefined && !['file', 'paragraph'].includes(config.txtMode as string)) fail('txtMode', 'must be file or paragraph');
  if (config.chunkBytes !== undefined && !(Number.isInteger(config.chunkBytes) && (config.chunkBytes as number) > 0)) fail('chunkBytes', 'must be a positive integer');
  return config as unknown as PipelineConfig;
}

/**
 * Reads a pipeline config from a `.json`, `.yaml` or `.yml` file, applies `overrides` (e.g. command-line
 * flags, which win over the file), and validates the result.
 */
export async function loadPipelineConfig(path: string, overrides: Partial<PipelineConfig> = {}): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError('DATA_INPUT_NOT_FOUND', `${path}: cannot read config (${(error as NodeJS.ErrnoException).code ?? error})`, { hint: 'check the path', cause: error });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new DataError('DATA_BAD_CONFIG', `${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`, { hint: 'fix the syntax', cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return validatePipelineConfig(value, path);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return validatePipelineConfig({ ...(value as object), ...defined }, path);
}
