// Writers: JSONL shards round-trip through the readers (plain and gzip), shard cutting, and zstd availability.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canWriteZstd, JsonlShardWriter, readDocuments, type Document } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-writers-'));
const docs: Document[] = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, text: `text ${i} — ünïcode\nsecond line`, meta: { n: i, source: 'x' } }));

async function readBack(paths: string[]): Promise<Document[]> {
  const out: Document[] = [];
  for (const path of paths) for await (const item of readDocuments(path)) if (item.kind === 'doc') out.push(item.doc);
  return out;
}

describe('JsonlShardWriter', () => {
  it('round-trips documents through plain and gzip shards, cutting shards by size', async () => {
    for (const compression of ['none', 'gzip'] as const) {
      const writer = new JsonlShardWriter({ dir: join(dir, compression), compression, maxShardBytes: 1000 });
      for (const doc of docs) await writer.write(doc);
      const files = await writer.close();
      expect(files.length).toBeGreaterThan(2);
      expect(readdirSync(join(dir, compression)).every((f) => f.startsWith('part_') && f.endsWith(compression === 'gzip' ? '.jsonl.gz' : '.jsonl'))).toBe(true);
      expect(await readBack(files)).toEqual(docs);
    }
  });

  it('writes zstd only where node:zlib can, and says so otherwise', async () => {
    const writer = new JsonlShardWriter({ dir: join(dir, 'zstd'), compression: 'zstd' });
    await writer.write(docs[0]!);
    if (canWriteZstd()) expect(await readBack(await writer.close())).toEqual([docs[0]]);
    else await expect(writer.close()).rejects.toMatchObject({ code: 'DATA_ZSTD_UNAVAILABLE' });
  });
});
