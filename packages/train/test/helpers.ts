// Test helpers shared by @lmkit/train's tests: writing small llm.c token shards.
import { writeFile } from 'node:fs/promises';

/** Writes an llm.c uint16 token shard (256×int32 header: 20240520, 1, count). */
export async function writeShard(path: string, tokens: ArrayLike<number>): Promise<void> {
  const header = new Int32Array(256);
  header[0] = 20240520;
  header[1] = 1;
  header[2] = tokens.length;
  const body = Uint16Array.from(tokens);
  await writeFile(path, Buffer.concat([Buffer.from(header.buffer), Buffer.from(body.buffer)]));
}
