// The README quick start, run as written (output directory moved to a temp dir).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tensor } from '@lmkit/tensor';
import { DecoderLM, getPreset, countParams, saveModel, loadModel } from '../src/index.js';

it('README quick start runs', async () => {
  const out = await mkdtemp(join(tmpdir(), 'lmkit-readme-'));
  const model = new DecoderLM(getPreset('tiny'), { seed: 1 });
  const ids = tensor([[72, 101, 108, 108], [111, 32, 119, 111]], [2, 4], { dtype: 'i32' });
  const targets = tensor([[101, 108, 108, 111], [32, 119, 111, 114]], [2, 4], { dtype: 'i32' });
  const loss = model.loss(ids, targets);
  loss.backward();
  expect(countParams(model.spec)).toBe(842_496);
  expect(Math.abs(loss.item() - Math.log(256))).toBeLessThan(0.3); // untrained: about ln V
  expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  await saveModel(model, join(out, 'model'));
  const again = await loadModel(join(out, 'model'));
  expect(again.forward(ids).data()).toEqual(model.forward(ids).data());
});
