// GGUF v3 files (llama.cpp's format): typed key/value metadata, tensor infos, aligned tensor data.
import { readFile } from 'node:fs/promises';
import { atomicWriteFile } from '@lmkit/core';
import { InferError } from '../errors.js';

/** GGUF metadata value types. */
export const GGUF_TYPE = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const;

/** ggml tensor types used here (ids from ggml.h). */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;

/** A metadata value with its GGUF type (arrays hold one element type). */
export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64' | 'u8'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'string'; value: string[] }
  | { type: 'array'; itemType: 'i32' | 'f32' | 'u32'; value: number[] };

/** One tensor: `dims` in GGUF order (dims[0] is the innermost, contiguous one), raw bytes in ggml layout. */
export interface GgufTensor {
  name: string;
  dims: number[];
  type: number;
  data: Uint8Array;
}

/** A parsed or to-be-written GGUF file. */
export interface GgufFile {
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
}

const ALIGNMENT = 32;
const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32

/** Bytes a tensor of this type and element count takes. */
export function ggmlTensorBytes(type: number, elements: number): number {
  switch (type) {
    case GGML_TYPE.F32:
      return elements * 4;
    case GGML_TYPE.F16:
      return elements * 2;
    case GGML_TYPE.Q8_0:
      return (elements / 32) * 34;
    case GGML_TYPE.Q4_0:
      return (elements / 32) * 18;
    default:
      throw new InferError('INFER_BAD_GGUF', `unsupported ggml tensor type ${type}`, { hint: 'lmkit reads F32, F16, Q8_0 and Q4_0 tensors' });
  }
}

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  i32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.push(b);
  }
  f32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
  }
  u64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Uint8Array.of(v));
  }
  str(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.u64(bytes.length);
    this.push(bytes);
  }
  bytes(b: Uint8Array): void {
    this.push(b);
  }
  pad(): void {
    const n = (ALIGNMENT - (this.length % ALIGNMENT)) % ALIGNMENT;
    if (n) this.push(new Uint8Array(n));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const SCALAR_CODE = { u8: GGUF_TYPE.UINT8, u32: GGUF_TYPE.UINT32, i32: GGUF_TYPE.INT32, f32: GGUF_TYPE.FLOAT32, u64: GGUF_TYPE.UINT64 } as const;

function writeScalar(w: Writer, type: 'u8' | 'u32' | 'i32' | 'f32' | 'u64', v: number): void {
  if (type === 'u8') w.u8(v);
  else if (type === 'u32') w.u32(v);
  else if (type === 'i32') w.i32(v);
  else if (type === 'f32') w.f32(v);
  else w.u64(v);
}

/** Serializes a GGUF v3 file. */
export function serializeGguf(file: GgufFile): Uint8Array {
  const w = new Writer();
  w.u32(MAGIC);
  w.u32(3);
  w.u64(file.tensors.length);
  w.u64(file.metadata.size);
  for (const [key, v] of file.metadata) {
    w.str(key);
    if (v.type === 'string') {
      w.u32(GGUF_TYPE.STRING);
      w.str(v.value);
    } else if (v.type === 'bool') {
      w.u32(GGUF_TYPE.BOOL);
      w.u8(v.value ? 1 : 0);
    } else if (v.type === 'array') {
      w.u32(GGUF_TYPE.ARRAY);
      if (v.itemType === 'string') {
        w.u32(GGUF_TYPE.STRING);
        w.u64(v.value.length);
        for (const s of v.value) w.str(s);
      } else {
        w.u32(SCALAR_CODE[v.itemType]);
        w.u64(v.value.length);
        for (const x of v.value) writeScalar(w, v.itemType, x);
      }
    } else {
      w.u32(SCALAR_CODE[v.type]);
      writeScalar(w, v.type, v.value);
    }
  }
  let offset = 0;
  for (const t of file.tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const expected = ggmlTensorBytes(t.type, elements);
    if (t.data.length !== expected) throw new InferError('INFER_BAD_GGUF', `tensor ${t.name}: ${t.data.length} bytes, expected ${expected} for type ${t.type} and dims ${t.dims.join('×')}`);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset += Math.ceil(t.data.length / ALIGNMENT) * ALIGNMENT;
  }
  w.pad();
  for (const t of file.tensors) {
    w.bytes(t.data);
    w.pad();
  }
  return w.concat();
}

/** Writes a GGUF file atomically. */
export async function writeGguf(path: string, file: GgufFile): Promise<void> {
  await atomicWriteFile(path, serializeGguf(file));
}

/** Parses a GGUF v2/v3 file; errors name the file and what is wrong. */
export function parseGguf(input: Uint8Array, source = 'gguf'): GgufFile {
  // NOTE: a Node Buffer's slice() shares memory; a plain Uint8Array view makes later slice() copies real.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const fail = (what: string): never => {
    throw new InferError('INFER_BAD_GGUF', `${source}: ${what} (at byte ${at})`, { hint: 'the file is not a GGUF file or is truncated; re-run `lmkit quantize`' });
  };
  const need = (n: number) => {
    if (at + n > bytes.length) fail('unexpected end of file');
  };
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u64 = () => {
    need(8);
    at += 8;
    const v = view.getBigUint64(at - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('a 64-bit count is too large');
    return Number(v);
  };
  const str = () => {
    const n = u64();
    need(n);
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const scalar = (code: number): number | boolean | string => {
    switch (code) {
      case GGUF_TYPE.UINT8: return (need(1), bytes[at++]);
      case GGUF_TYPE.INT8: return (need(1), view.getInt8(at++));
      case GGUF_TYPE.UINT16: return (need(2), (at += 2), view.getUint16(at - 2, true));
      case GGUF_TYPE.INT16: return (need(2), (at += 2), view.getInt16(at - 2, true));
      case GGUF_TYPE.UINT32: return u32();
      case GGUF_TYPE.INT32: return (need(4), (at += 4), view.getInt32(at - 4, true));
      case GGUF_TYPE.FLOAT32: return (need(4), (at += 4), view.getFloat32(at - 4, true));
      case GGUF_TYPE.BOOL: return (need(1), bytes[at++] !== 0);
      case GGUF_TYPE.STRING: return str();
      case GGUF_TYPE.UINT64: return u64();
      case GGUF_TYPE.INT64: return (need(8), (at += 8), Number(view.getBigInt64(at - 8, true)));
      case GGUF_TYPE.FLOAT64: return (need(8), (at += 8), view.getFloat64(at - 8, true));
      default: return fail(`unknown metadata type ${code}`);
    }
  };
  const NAMES: Record<number, GgufValue['type']> = { 0: 'u8', 4: 'u32', 5: 'i32', 6: 'f32', 10: 'u64' };
  if (u32() !== MAGIC) fail('bad magic (expected "GGUF")');
  const version = u32();
  if (version !== 2 && version !== 3) fail(`unsupported GGUF version ${version}`);
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, GgufValue>();
  let alignment = ALIGNMENT;
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const code = u32();
    if (code === GGUF_TYPE.ARRAY) {
      const itemCode = u32();
      const n = u64();
      const items: unknown[] = [];
      for (let j = 0; j < n; j++) items.push(scalar(itemCode));
      metadata.set(key, itemCode === GGUF_TYPE.STRING ? { type: 'array', itemType: 'string', value: items as string[] } : { type: 'array', itemType: itemCode === GGUF_TYPE.FLOAT32 ? 'f32' : itemCode === GGUF_TYPE.UINT32 ? 'u32' : 'i32', value: items as number[] });
    } else {
      const v = scalar(code);
      if (typeof v === 'string') metadata.set(key, { type: 'string', value: v });
      else if (typeof v === 'boolean') metadata.set(key, { type: 'bool', value: v });
      else metadata.set(key, { type: NAMES[code] ?? (Number.isInteger(v) ? 'i32' : 'f32'), value: v } as GgufValue);
      if (key === 'general.alignment' && typeof v === 'number') alignment = v;
    }
  }
  const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const dims: number[] = [];
    for (let d = 0; d < nd; d++) dims.push(u64());
    infos.push({ name, dims, type: u32(), offset: u64() });
  }
  const dataStart = Math.ceil(at / alignment) * alignment;
  const tensors = infos.map((info) => {
    const size = ggmlTensorBytes(info.type, info.dims.reduce((a, b) => a * b, 1));
    const start = dataStart + info.offset;
    if (start + size > bytes.length) {
      at = start;
      fail(`tensor ${info.name} runs past the end of the file`);
    }
    return { ...info, data: bytes.subarray(start, start + size) };
  });
  return { metadata, tensors: tensors.map(({ name, dims, type, data }) => ({ name, dims, type, data })) };
}

/** Reads and parses a GGUF file. */
export async function readGguf(path: string): Promise<GgufFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InferError('INFER_NO_MODEL', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
  }
  return parseGguf(bytes, path);
}
