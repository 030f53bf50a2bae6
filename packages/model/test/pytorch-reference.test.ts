// Whole-model numerics against PyTorch: fixtures from scripts/make_fixtures.py (float64 reference, f32 weights).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor } from '@lmkit/tensor';
import { DecoderLM, entryToFloat32, entryToInt32, loadModel, readSafetensors, toHuggingFace, type HostArray } from '../src/index.js';
import { expectClose } from './helpers.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

// f32 compute against a float64 reference on a 2-layer width-32 model.
const LOGITS_TOL = { atol: 1e-5, rtol: 1e-4 };
const GRAD_TOL = { atol: 1e-6, rtol: 1e-4 };

for (const name of ['gpt2-tiny', 'llama-tiny', 'mixtral-tiny', 'encoder-tiny']) {
  describe(`PyTorch reference: ${name}`, () => {
    it('logits, loss and every parameter gradient match', async () => {
      const model = (await loadModel(join(FIXTURES, name))) as DecoderLM;
      model.eval();
      const ref = await readSafetensors(join(FIXTURES, name, 'reference.safetensors'));
      const get = (key: string): { data: Float32Array; shape: number[] } => ({ data: entryToFloat32(ref.tensors.get(key)!, key), shape: ref.tensors.get(key)!.shape });
      const idsEntry = ref.tensors.get('input_ids')!;
      const input = tensor(entryToInt32(idsEntry), idsEntry.shape, { dtype: 'i32' });
      const targets = tensor(entryToInt32(ref.tensors.get('targets')!), idsEntry.shape, { dtype: 'i32' });

      const logits = model.forward(input);
      expect([...logits.shape]).toEqual(get('logits').shape);
      expectClose(logits.data(), get('logits').data, LOGITS_TOL.atol, LOGITS_TOL.rtol, 'logits');

      const loss = model.loss(input, targets); // + router_aux_loss_coef × Σ layer aux losses for MoE
      expect(loss.item()).toBeCloseTo(get('loss').data[0]!, 5);
      if (ref.tensors.has('aux_loss')) expect(model.auxLoss()!.item()).toBeCloseTo(0.02 * get('aux_loss').data[0]!, 6);
      loss.backward();

      const grads = new Map<string, HostArray>();
      for (const [key, p] of model.namedParameters()) grads.set(key, { data: p.grad!.data() as Float32Array, shape: [...p.shape] });
      const hfGrads = toHuggingFace(model.spec, grads);
      let checked = 0;
      for (const [key] of ref.tensors) {
        if (!key.startsWith('grad.')) continue;
        const hf = key.slice('grad.'.length);
        const ours = hfGrads.get(hf);
        expect(ours, `gradient of ${hf}`).toBeDefined();
        expect(ours!.shape).toEqual(get(key).shape);
        expectClose(ours!.data, get(key).data, GRAD_TOL.atol, GRAD_TOL.rtol, `grad ${hf}`);
        checked++;
      }
      expect(checked).toBe(hfGrads.size);
    });
  });
}
