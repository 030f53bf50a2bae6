// Adapts an @lmkit/model language model (DecoderLM / EncoderLM) to the Trainer's TrainableModel interface.
import { flopsPerToken, toHuggingFace, trimVocabRows, type DecoderLM, type LanguageModel } from '@lmkit/model';
import { mul, noGrad, scope, tensor, type Tensor } from '@lmkit/tensor';
import { assertCheckpointable, checkpointedLossAndBackward } from './gradient-checkpointing.js';
import type { ObjectiveBatch } from './objectives/objective.js';
import type { BackwardOptions, TrainableModel, TrainableParam } from './trainable-model.js';

/**
 * Wraps an @lmkit/model model for {@link train}: parameters are mirrored as host Float32Arrays
 * (read once, written back with `Tensor.write` after each optimizer step), gradients are copied
 * out of the tensors after each backward, and checkpoints use Hugging Face tensor names. With
 * `gradientCheckpointing`, blocks are recomputed in the backward pass (see gradient-checkpointing.ts).
 *
 * @example
 * const model = createModel(getPreset('tiny'), { seed: 1 });
 * await train({ model: fromLmkitModel(model), objective: causalLm(), dataset, steps: 100 });
 */
export function fromLmkitModel(
  model: LanguageModel,
  options: {
    /** Recompute each block in the backward pass instead of keeping its activations (dense decoders without dropout). Default false. */
    gradientCheckpointing?: boolean;
  } = {},
): TrainableModel {
  const recompute = options.gradientCheckpointing ?? false;
  if (recompute) assertCheckpointable(model);
  const named = model.namedParameters();
  const tensors = named.map(([, t]) => t);
  const params: TrainableParam[] = named.map(([name, t]) => ({
    name,
    shape: [...t.shape],
    data: Float32Array.from(t.data() as Float32Array),
    grad: new Float32Array(t.size),
  }));
  const batchTensors = (batch: ObjectiveBatch): [Tensor, Tensor] => [
    tensor(batch.inputIds, [batch.batchSize, batch.seqLen], { dtype: 'i32' }),
    tensor(batch.targets, [batch.batchSize, batch.seqLen], { dtype: 'i32' }),
  ];
  return {
    parameters: () => params,
    zeroGrad(): void {
      for (const t of tensors) t.zeroGrad();
      for (const p of params) p.grad.fill(0);
    },
    lossAndBackward(batch: ObjectiveBatch, options: BackwardOptions): number {
      model.train();
      return scope(() => {
        const [ids, targets] = batchTensors(batch);
        let value: number;
        if (recompute) value = checkpointedLossAndBackward(model as DecoderLM, ids, targets, options.lossScale);
        else {
          const loss = model.loss(ids, targets);
          value = loss.item();
          mul(loss, options.lossScale).backward();
        }
        tensors.forEach((t, i) => {
          if (t.grad === null) return; // NOTE: a parameter the loss does not reach (e.g. unused positions) has no grad
          const g = t.grad.data() as Float32Array;
          const acc = params[i].grad;
          for (let k = 0; k < acc.length; k++) acc[k] += g[k];
          t.zeroGrad();
        });
        return value;
      });
    },
    evalLoss(batch: ObjectiveBatch): number {
      model.eval();
      return noGrad(() => scope(() => {
        const [ids, targets] = batchTensors(batch);
        return model.loss(ids, targets).item();
      }));
    },
    syncParameters(): void {
      tensors.forEach((t, i) => t.write(params[i].data));
    },
    config: () => ({ ...model.config }),
    exportWeights() {
      const host = new Map(params.map((p) => [p.name, { data: p.data, shape: [...p.shape] }]));
      // NOTE: the file holds the real vocab rows (config.json's vocab_size), as transformers expects; resume reads the fp32 masters.
      return new Map([...toHuggingFace(model.spec, trimVocabRows(model.spec, host))].map(([name, a]) => [name, { shape: [...a.shape], data: a.data }]));
    },
    rngState: () => model.rng.state(),
    loadRngState(state: unknown): void {
      model.rng.setState(state as ReturnType<typeof model.rng.state>);
    },
    flopsPerToken: (seqLen: number) => flopsPerToken(model.spec, seqLen),
  };
}
