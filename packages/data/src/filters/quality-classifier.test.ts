import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sotuParagraphs, spamBodies } from './corpus-fixtures.js';
import { QualityClassifier, qualityClassifierFilter } from './quality-classifier.js';
import { verdict } from './test-helpers.js';

const dir = await mkdtemp(join(tmpdir(), 'lmkit-qc-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('QualityClassifier', () => {
  it('separates held-out SOTU paragraphs from spam, and saves/loads to identical scores', async () => {
    const good = sotuParagraphs(20);
    const bad = spamBodies(400);
    const train = [...good.slice(0, 300).map((text) => ({ text, label: 1 as const })), ...bad.slice(0, 300).map((text) => ({ text, label: 0 as const }))];
    const model = QualityClassifier.train(train, { bits: 16 });
    const testGood = sotuParagraphs(5, 150).slice(0, 100);
    const testBad = bad.slice(300, 400);
    const correct = testGood.filter((t) => model.score(t) >= 0.5).length + testBad.filter((t) => model.score(t) < 0.5).length;
    const accuracy = correct / (testGood.length + testBad.length);
    console.log(`quality classifier held-out accuracy (SOTU vs spam): ${accuracy.toFixed(3)} on ${testGood.length + testBad.length} texts`);
    expect(accuracy).toBeGreaterThan(0.9);
    const path = join(dir, 'qc.bin');
    await model.save(path);
    const loaded = await QualityClassifier.load(path);
    for (const t of [testGood[0], testBad[0]]) expect(loaded.score(t)).toBe(model.score(t));
    const f = qualityClassifierFilter({ model: path });
    await f.init!({ rank: 0, worldSize: 1, outDir: dir });
    expect(await verdict(f, testGood[0])).toBe('keep');
    const truncated = join(dir, 'cut.bin');
    await writeFile(truncated, (await readFile(path)).subarray(0, 1000));
    await expect(QualityClassifier.load(truncated)).rejects.toMatchObject({ code: 'DATA_BAD_MODEL' });
  });
});
