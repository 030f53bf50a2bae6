// The safetensors file format: an 8-byte little-endian header length, a JSON header, then raw tensor bytes.
import { open } from 'node:fs/promises';
import { atomicWriteStream } from '@lmkit/core';
import { ModelError } from './errors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '@lmkit/tensor';

/** Element types safetensors names; lmkit converts F32/F16/BF16/F64 to f32 and I32/I64 to i32. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each {@link SafetensorsDtype}. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** One tensor as stored: its dtype, shape and little-endian bytes. */
export interface SafetensorsEntry {
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** Raw little-endian bytes, `product(shape) × bytes(dtype)` long. */
  data: Uint8Array;
}

/** A parsed safetensors file: tensors in file order plus the free-form `__metadata__` strings. */
export interface SafetensorsFile {
  /** Tensors by name, in the order of their data in the file. */
  tensors: Map<string, SafetensorsEntry>;
  /** The `__metadata__` object (string → string); `{}` when absent. */
  metadata: Record<string, string>;
}

/** Largest header accepted (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function bad(source: string, message: string, hint?: string): ModelError {
  return new ModelError('MODEL_BAD_SAFETENSORS', `${source}: ${message}`, {
    hint: hint ?? 'the file is not a valid safetensors file; re-export it with safetensors or lmkit',
    details: { file: source },
  });
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parses safetensors bytes. Validates the header length, the JSON, every dtype and shape, and
 * that the data offsets tile the byte buffer exactly (no gaps, no overlaps), as the reference
 * implementation does. Tensor data are views into `bytes`, not copies.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (bytes.byteLength < 8) throw bad(source, `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) {
    throw bad(source, `header length ${headerLength} does not fit in a ${bytes.byteLength}-byte file`);
  }
  const headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  if (!headerText.startsWith('{')) throw bad(source, 'header does not start with "{"');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerText) as Record<string, unknown>;
  } catch (error) {
    throw bad(source, `header is not valid JSON (${(error as Error).message})`);
  }
  const body = bytes.subarray(8 + headerLength);
  const metadata: Record<string, string> = {};
  const entries: Array<[string, SafetensorsEntry, number, number]> = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw bad(source, `__metadata__.${k} is ${typeof v}, expected a string`);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BYTES)) {
      throw bad(source, `tensor "${name}" has unknown dtype ${JSON.stringify(info?.dtype)}`, `supported: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(source, `tensor "${name}" has invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw bad(source, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape as number[]) * SAFETENSORS_DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw bad(source, `tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    if (end > body.byteLength) throw bad(source, `tensor "${name}" ends at byte ${end}, past the ${body.byteLength}-byte data section`, 'the file is probably truncated');
    entries.push([name, { dtype, shape: shape as number[], data: body.subarray(begin, end) }, begin, end]);
  }
  entries.sort((a, b) => a[2] - b[2] || a[3] - b[3]);
  let cursor = 0;
  for (const [name, , begin, end] of entries) {
    if (begin !== cursor) throw bad(source, `tensor "${name}" starts at byte ${begin}, expected ${cursor} (offsets must tile the data without gaps or overlaps)`);
    cursor = end;
  }
  if (cursor !== body.byteLength) throw bad(source, `data section is ${body.byteLength} bytes but tensors cover ${cursor}`);
  return { tensors: new Map(entries.map(([name, entry]) => [name, entry])), metadata };
}

/** Reads and parses a `.safetensors` file (in 1 GiB reads, so files past fs.readFile's 2 GiB limit load too). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      bytes = Buffer.allocUnsafe(size);
      for (let at = 0; at < size; ) {
        const { bytesRead } = await handle.read(bytes, at, Math.min(2 ** 30, size - at), at);
        if (bytesRead === 0) throw new Error(`file ended at byte ${at} of ${size}`);
        at += bytesRead;
      }
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new ModelError('MODEL_BAD_SAFETENSORS', `${path}: cannot read (${(error as Error).message})`, { hint: 'check the path', cause: error });
  }
  return parseSafetensors(bytes, path);
}

type EntryInput = Map<string, SafetensorsEntry> | Record<string, SafetensorsEntry>;

interface Layout {
  header: Uint8Array;
  order: Array<[string, SafetensorsEntry]>;
}

function layout(tensors: EntryInput, metadata: Record<string, string> | undefined): Layout {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, e] of list) {
    if (name === '__metadata__') throw new ModelError('MODEL_BAD_INPUT', 'a tensor may not be named "__metadata__"');
    const expected = elementCount(e.shape) * SAFETENSORS_DTYPE_BYTES[e.dtype];
    if (e.data.byteLength !== expected) {
      throw new ModelError('MODEL_BAD_INPUT', `tensor "${name}" (${e.dtype} ${JSON.stringify(e.shape)}) has ${e.data.byteLength} bytes, expected ${expected}`);
    }
  }
  // NOTE: same order as the reference writer (wider dtypes first, then by name) so every tensor is
  // aligned to its element size once the header is padded to 8 bytes.
  list.sort((a, b) => SAFETENSORS_DTYPE_BYTES[b[1].dtype] - SAFETENSORS_DTYPE_BYTES[a[1].dtype] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, e] of list) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  let json = JSON.stringify(header);
  const encoded = new TextEncoder().encode(json);
  const padded = Math.ceil(encoded.byteLength / 8) * 8;
  json += ' '.repeat(padded - encoded.byteLength);
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  return { header: out, order: list };
}

/**
 * Serializes tensors to safetensors bytes: 8-byte LE header length, JSON header padded with
 * spaces to a multiple of 8 bytes, then the data of each tensor (wider dtypes first, then by name).
 */
export function serializeSafetensors(tensors: EntryInput, metadata?: Record<string, string>): Uint8Array {
  const { header, order } = layout(tensors, metadata);
  const total = order.reduce((n, [, e]) => n + e.data.byteLength, header.byteLength);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let at = header.byteLength;
  for (const [, e] of order) {
    out.set(e.data, at);
    at += e.data.byteLength;
  }
  return out;
}

/** Writes a `.safetensors` file atomically (temp file + rename), streaming tensor by tensor. */
export async function writeSafetensors(path: string, tensors: EntryInput, metadata?: Record<string, string>): Promise<void> {
  const { header, order } = layout(tensors, metadata);
  const out = await atomicWriteStream(path);
  const write = (chunk: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      out.stream.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  try {
    await write(header);
    for (const [, e] of order) await write(e.data);
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  }
}

/** Wraps a Float32Array as an entry stored as F32, or rounded (to nearest even) to F16 or BF16. */
export function floatEntry(values: Float32Array, shape: number[], dtype: 'F32' | 'F16' | 'BF16' = 'F32'): SafetensorsEntry {
  if (elementCount(shape) !== values.length) {
    throw new ModelError('MODEL_BAD_INPUT', `shape ${JSON.stringify(shape)} holds ${elementCount(shape)} values, got ${values.length}`);
  }
  if (dtype === 'F32') {
    const copy = new Uint8Array(values.length * 4);
    new Float32Array(copy.buffer).set(values);
    return { dtype, shape: [...shape], data: copy };
  }
  const bits = dtype === 'BF16' ? f32ToBf16(values) : f32ToF16(values); // round to nearest even, NaN/Inf kept
  return { dtype, shape: [...shape], data: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) };
}

/** Wraps an Int32Array as an entry stored as I32 or I64. */
export function intEntry(values: Int32Array, shape: number[], dtype: 'I32' | 'I64' = 'I32'): SafetensorsEntry {
  if (elementCount(shape) !== values.length) {
    throw new ModelError('MODEL_BAD_INPUT', `shape ${JSON.stringify(shape)} holds ${elementCount(shape)} values, got ${values.length}`);
  }
  if (dtype === 'I32') return { dtype, shape: [...shape], data: new Uint8Array(Int32Array.from(values).buffer) };
  const wide = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) wide[i] = BigInt(values[i]!);
  return { dtype, shape: [...shape], data: new Uint8Array(wide.buffer) };
}

function aligned(data: Uint8Array, bytes: number): ArrayBuffer | SharedArrayBuffer {
  return data.byteOffset % bytes === 0 ? data.buffer : data.slice().buffer;
}

/** Decodes a floating-point entry (F32, F16, BF16 or F64) to a new Float32Array. */
export function entryToFloat32(entry: SafetensorsEntry, name = '<tensor>'): Float32Array {
  const n = elementCount(entry.shape);
  const { data } = entry;
  switch (entry.dtype) {
    case 'F32': {
      const src = new Float32Array(aligned(data, 4), data.byteOffset % 4 === 0 ? data.byteOffset : 0, n);
      return Float32Array.from(src);
    }
    case 'F64': {
      const src = new Float64Array(aligned(data, 8), data.byteOffset % 8 === 0 ? data.byteOffset : 0, n);
      return Float32Array.from(src);
    }
    case 'F16':
    case 'BF16': {
      const src = new Uint16Array(aligned(data, 2), data.byteOffset % 2 === 0 ? data.byteOffset : 0, n);
      return entry.dtype === 'F16' ? f16ToF32(src) : bf16ToF32(src);
    }
    default:
      throw new ModelError('MODEL_BAD_SAFETENSORS', `tensor "${name}" is ${entry.dtype}, expected a float dtype (F32, F16, BF16, F64)`);
  }
}

/** Decodes an integer entry (I32 or I64 within the int32 range) to a new Int32Array. */
export function entryToInt32(entry: SafetensorsEntry, name = '<tensor>'): Int32Array {
  const n = elementCount(entry.shape);
  const { data } = entry;
  if (entry.dtype === 'I32') return Int32Array.from(new Int32Array(aligned(data, 4), data.byteOffset % 4 === 0 ? data.byteOffset : 0, n));
  if (entry.dtype === 'I64') {
    const src = new BigInt64Array(aligned(data, 8), data.byteOffset % 8 === 0 ? data.byteOffset : 0, n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v > 2147483647n || v < -2147483648n) throw new ModelError('MODEL_BAD_SAFETENSORS', `tensor "${name}" element ${i} = ${v} does not fit in int32`);
      out[i] = Number(v);
    }
    return out;
  }
  throw new ModelError('MODEL_BAD_SAFETENSORS', `tensor "${name}" is ${entry.dtype}, expected I32 or I64`);
}
