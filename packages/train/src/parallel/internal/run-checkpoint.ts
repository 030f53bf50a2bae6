// Writes a parallel run's gathered state as the single-worker trainer's checkpoint (weights, config, fp32 masters + AdamW moments, trainer state), or the weights only.
import { saveModel, toHuggingFace, type DecoderLM } from '@lmkit/model';
import { saveCheckpoint, type TrainerState } from '../../checkpoint/checkpoint.js';
import { roundArrayToFormat, type HalfFormat } from '../../precision/float-formats.js';
import type { FullTrainingState } from '../strategy.js';

/**
 * Saves `full` to `dir` in exactly the layout `train()` writes and reads: `model.safetensors`
 * holds the compute weights (the masters rounded to `format`) under Hugging Face names,
 * `optimizer.safetensors` the fp32 masters and full moments, `trainer_state.json` `state`.
 * Only one rank calls it.
 */
export async function saveFullCheckpoint(dir: string, model: DecoderLM, full: FullTrainingState, state: TrainerState, format: HalfFormat | null): Promise<void> {
  const shapes = new Map(model.namedParameters().map(([name, t]) => [name, [...t.shape]]));
  const shapeOf = (name: string, n: number): number[] => shapes.get(name) ?? [n];
  const compute = new Map([...full.master].map(([name, data]) => [name, { data: format ? roundArrayToFormat(data, format, new Float32Array(data.length)) : data, shape: shapeOf(name, data.length) }]));
  await saveCheckpoint(dir, {
    weights: toHuggingFace(model.spec, compute),
    config: { ...model.config },
    master: new Map([...full.master].map(([name, data]) => [name, { shape: shapeOf(name, data.length), data }])),
    optimizer: full.optimizer,
    state,
  });
}

/**
 * Saves only the model (`saveModel`: weights + config.json, loadable by generate/eval/quantize,
 * not resumable) from gathered parameters, for strategies that cannot gather optimizer state.
 * Loads `parameters` into `model`. Only one rank calls it.
 */
export async function saveWeightsOnly(dir: string, model: DecoderLM, parameters: Map<string, Float32Array>): Promise<void> {
  const shapes = new Map(model.namedParameters().map(([name, t]) => [name, [...t.shape]]));
  model.loadStateDict(new Map([...parameters].map(([name, data]) => [name, { data, shape: shapes.get(name) ?? [data.length] }])));
  await saveModel(model, dir);
}
