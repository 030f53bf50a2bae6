// Token shards: the llm.c header and byte layout, the uint32 switch, windows, bad files, and pretokenize's split.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTokenShard, pretokenize, TokenShardWriter, type Document } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-shards-'));

describe('token shards', () => {
  it('writes the llm.c GPT-2 layout: int32 magic 20240520, version 1, count, then uint16 tokens', async () => {
    const writer = new TokenShardWriter({ dir: join(dir, 'u16'), vocabSize: 50257, shardTokens: 5 });
    await writer.write([50256, 1, 2]);
    await writer.write([65535 - 15279, 4, 5, 6]);
    const files = await writer.close();
    expect(files.map((f) => f.split('/').pop())).toEqual(['train_000000.bin', 'train_000001.bin']);
    const bytes = readFileSync(files[0]!);
    expect(bytes.length).toBe(1024 + 5 * 2);
    const header = new Int32Array(bytes.buffer, bytes.byteOffset, 256);
    expect([header[0], header[1], header[2]]).toEqual([20240520, 1, 5]);
    expect(header.subarray(3).every((v) => v === 0)).toBe(true);
    expect([...new Uint16Array(bytes.buffer, bytes.byteOffset + 1024, 5)]).toEqual([50256, 1, 2, 50256, 4]);
    // 20240520 = 0x0134d888, little-endian; version 1; 2 tokens.
    expect(readFileSync(files[1]!).subarray(0, 12)).toEqual(Buffer.from([0x88, 0xd8, 0x34, 0x01, 1, 0, 0, 0, 2, 0, 0, 0]));
  });

  it('switches to uint32 (llm.c LLaMA-3 magic 20240801, version 7) above 65 536 ids', async () => {
    const small = new TokenShardWriter({ dir: join(dir, 'edge'), vocabSize: 65536 });
    expect(small.dtype).toBe('uint16');
    const writer = new TokenShardWriter({ dir: join(dir, 'u32'), vocabSize: 128256 });
    expect(writer.dtype).toBe('uint32');
    await writer.write([128000, 70000, 3]);
    const [path] = await writer.close();
    const bytes = readFileSync(path!);
    expect(bytes.length).toBe(1024 + 3 * 4);
    expect([...new Int32Array(bytes.buffer, bytes.byteOffset, 3)]).toEqual([20240801, 7, 3]);
    expect([...new Uint32Array(bytes.buffer, bytes.byteOffset + 1024, 3)]).toEqual([128000, 70000, 3]);
    const shard = await openTokenShard(path!);
    expect(shard.dtype).toBe('uint32');
    expect([...(await shard.read(1, 5))]).toEqual([70000, 3]);
    await shard.close();
  });

  it('reads random windows and rejects out-of-vocabulary ids', async () => {
    const writer = new TokenShardWriter({ dir: join(dir, 'win'), vocabSize: 1000 });
    const tokens = Array.from({ length: 3000 }, (_, i) => (i * 7) % 1000);
    await writer.write(tokens);
    const [path] = await writer.close();
    const shard = await openTokenShard(path!);
    expect(shard.numTokens).toBe(3000);
    for (const start of [0, 1, 999, 2990]) expect([...(await shard.read(start, 17))]).toEqual(tokens.slice(start, start + 17));
    expect([...(await shard.readAll())]).toEqual(tokens);
    await shard.close();
    await expect(writer.write([1000])).rejects.toMatchObject({ code: 'DATA_BAD_TOKEN' });
  });

  it('rejects a bad magic and a size that does not match the header', async () => {
    const writer = new TokenShardWriter({ dir: join(dir, 'bad'), vocabSize: 100 });
    await writer.write([1, 2, 3, 4]);
    const [path] = await writer.close();
    const bytes = readFileSync(path!);
    writeFileSync(join(dir, 'short.bin'), bytes.subarray(0, bytes.length - 2));
    await expect(openTokenShard(join(dir, 'short.bin'))).rejects.toMatchObject({ code: 'DATA_BAD_SHARD' });
    const wrong = Buffer.from(bytes);
    wrong.writeInt32LE(12345, 0);
    writeFileSync(join(dir, 'magic.bin'), wrong);
    await expect(openTokenShard(join(dir, 'magic.bin'))).rejects.toThrow(/magic 12345/);
  });

  it('pretokenizes with EOT before each document and a deterministic val fraction', async () => {
    // A toy byte-level encoder: one id per UTF-8 byte, EOT = 256.
    const encoder = { encode: (t: string) => [...Buffer.from(t)], eotToken: 256, vocabSize: 257 };
    const docs: Document[] = Array.from({ length: 200 }, (_, i) => ({ id: String(i), text: `document ${i} `.repeat(1 + (i % 5)), meta: {} }));
    const result = await pretokenize(docs, { encoder, outDir: join(dir, 'pre'), valFraction: 0.1, shardTokens: 4000 });
    const total = docs.reduce((n, d) => n + Buffer.byteLength(d.text) + 1, 0);
    expect(result.train.tokens + result.val.tokens).toBe(total);
    expect(Math.abs(result.val.tokens / total - 0.1)).toBeLessThan(0.01);
    expect(result.train.files.length).toBe(Math.ceil(result.train.tokens / 4000));
    // The first document opens the validation split; the next one opens training.
    const val = await openTokenShard(result.val.files[0]!);
    expect([...(await val.read(0, 12))]).toEqual([256, ...Buffer.from('document 0 ').subarray(0, 11)]);
    await val.close();
    const train = await openTokenShard(result.train.files[0]!);
    expect([...(await train.read(0, 12))]).toEqual([256, ...Buffer.from('document 1 ').subarray(0, 11)]);
    await train.close();
    const tiny = await pretokenize(docs.slice(0, 3), { encoder, outDir: join(dir, 'tiny'), valFraction: 0.01 });
    expect(tiny.val.files.length).toBe(1);
    const again = await pretokenize(docs, { encoder, outDir: join(dir, 'pre2'), valFraction: 0.1, shardTokens: 4000 });
    expect(readFileSync(again.val.files[0]!)).toEqual(readFileSync(result.val.files[0]!));
  });
});
