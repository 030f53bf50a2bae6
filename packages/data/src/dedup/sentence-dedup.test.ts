import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Document } from '../types.js';
import { runDeduplicator, type KeyedShard } from './run-dedup.js';
import { sentenceDeduplicator } from './sentence-dedup.js';

const dirs: string[] = [];
async function workDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lmkit-sdedup-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Sentence i of a distinct 12-word sentence family. */
// NOTE: no digits: normalization maps every number to 0, which would make the sentences equal.
const word = (i: number): string => String.fromCharCode(97 + (i % 26)) + String.fromCharCode(97 + Math.floor(i / 26));
const s = (tag: string, i: number): string => `Sentence ${tag} number ${word(i)} says something about the topic at hand today.`;
const para = (tag: string, n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => s(tag, from + i));

function corpus(): Document[] {
  const boiler = ['Subscribe to our newsletter for weekly updates now.', 'All rights are reserved by the publisher of this site.', 'Share this article with your friends and family today.'];
  return [
    { id: 'a', text: [...para('a', 8), ...boiler].join(' '), meta: {} },
    { id: 'b', text: [...para('b', 8), ...boiler].join(' '), meta: {} }, // boilerplate repeats a's: removed from b
    { id: 'c', text: [...boiler, ...para('c', 2)].join(' '), meta: {} }, // only 2 sentences left: dropped
    { id: 'd', text: [...para('a', 3), ...para('d', 6)].join(' '), meta: {} }, // a's first span repeats: removed
    { id: 'e', text: para('e', 6).join(' '), meta: {} },
  ];
}
const split = (docs: Document[], ranks: number): KeyedShard[] => {
  const shards: Array<Array<{ key: bigint; doc: Document }>> = Array.from({ length: ranks }, () => []);
  docs.forEach((doc, i) => shards[i % ranks].push({ key: BigInt(i), doc }));
  return shards;
};

describe('sentenceDeduplicator', () => {
  it('removes every repeated 3-sentence span after its first occurrence, then drops short leftovers; same with 1 and 2 ranks', async () => {
    const docs = corpus();
    const one = await runDeduplicator(sentenceDeduplicator({ minDocWords: 30 }), split(docs, 1), await workDir());
    const two = await runDeduplicator(sentenceDeduplicator({ minDocWords: 30 }), split(docs, 2), await workDir());
    const kept = one.kept.flat();
    expect(kept.map((d) => d.id)).toEqual(['a', 'b', 'd', 'e']);
    expect(kept[0].text).toBe(docs[0].text);
    expect(kept[1].text).toBe(para('b', 8).join(' '));
    expect(kept[2].text).toBe(para('d', 6).join(' '));
    expect(one.removedKeys).toEqual([2n]);
    expect(two.removedKeys).toEqual(one.removedKeys);
    expect(two.kept.flat().map((d) => d.text).sort()).toEqual(kept.map((d) => d.text).sort());
  });

  it('drops documents left under 50 words by default', async () => {
    const res = await runDeduplicator(sentenceDeduplicator(), split(corpus(), 1), await workDir());
    // b keeps 8 sentences × 12 words = 96 words; d keeps 6 × 12 = 72; e untouched
    expect(res.kept.flat().map((d) => d.id)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('says loadRemovals does not apply to span removal', async () => {
    await expect(sentenceDeduplicator().loadRemovals('x', 0)).rejects.toMatchObject({ code: 'DATA_DEDUP_NEEDS_FILTER' });
  });
});
