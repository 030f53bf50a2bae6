// Megatron tensor parallelism for an @lmkit/model decoder: attention split by heads, the MLP column- then row-parallel, a vocab-parallel embedding and loss.
import type { DecoderLM } from '@lmkit/model';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import { AdamW, type AdamWOptions } from '../optim/adamw.js';
import type { Communicator } from './communicator.js';
import { allReduceGradients } from './data-parallel.js';
import { megatronStage } from './megatron-stage.js';
import { memoryReport, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

/** Options for {@link tensorParallel}. */
export interface TensorParallelOptions {
  /** AdamW hyperparameters. Default the AdamW defaults. */
  optimizer?: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. Default 1.0. */
  gradClip?: number;
  /** The data-parallel group of this rank (2D parallelism): gradients are averaged over it before the step. Default none. */
  dataParallel?: Communicator;
  /** Split the token embedding and the LM head by vocabulary rows, and compute the loss on split logits. Default true. */
  vocabParallel?: boolean;
}

/** The tensor-parallel strategy, with its loss-and-backward and dense gradients exposed for tests and tools. */
export interface TensorParallelStrategy extends ParallelStrategy {
  /** Forward + backward of `batch` (gradients accumulate, scaled by `lossScale`); returns the loss. */
  lossAndBackward(batch: ObjectiveBatch, lossScale: number): Promise<number>;
  /** The dense gradients by name, assembled from every rank's slices (every rank must call it). */
  denseGradients(): Promise<Map<string, Float32Array>>;
}

/**
 * Tensor parallel (Megatron-LM) over t ranks: every block split as {@link megatronStage}
 * describes — 2 all-reduces of B·T·C per block forward and 2 backward — and, by default, a
 * vocab-parallel embedding (one all-reduce forward) and a vocab-parallel loss (an all-gather of
 * B·T row maxima, one all-reduce of 2·B·T sums, one all-reduce of the head's input gradient), so
 * rank r holds V/t rows of the token table and V/t columns of the logits. Norms and learned
 * positions are replicated. Gradients equal the dense model's.
 *
 * @example
 * const tp = await tensorParallel(comm, model); // every rank passes the same batch
 * await tp.step([batch], lr);
 */
export async function tensorParallel(comm: Communicator, model: DecoderLM, options: TensorParallelOptions = {}): Promise<TensorParallelStrategy> {
  assertCheckpointable(model);
  const named = model.namedParameters();
  for (const [, p] of named) {
    const host = Float32Array.from(p.data() as Float32Array);
    await comm.broadcast(host, 0);
    p.write(host);
  }
  const stage = megatronStage(comm, model, { vocabParallel: options.vocabParallel });
  const trainables = stage.params.filter((p) => p.trainable);
  const host = trainables.map(({ name, tensor: p }) => ({ name, shape: p.shape, data: Float32Array.from(p.data() as Float32Array), grad: new Float32Array(p.size) }));
  const optimizer = new AdamW(host, options.optimizer);
  const clip = options.gradClip ?? 1.0;

  const lossAndBackward = async (batch: ObjectiveBatch, lossScale: number): Promise<number> => {
    const micro = await stage.forward(batch.inputIds, batch.targets, batch.batchSize, batch.seqLen, lossScale);
    await micro.backward(null);
    return micro.loss;
  };

  return {
    name: 'tp',
    lossAndBackward,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.train();
      for (const p of stage.params) p.tensor.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += await lossAndBackward(b, 1 / batches.length);
      trainables.forEach(({ tensor: p }, i) => host[i].grad.set(p.grad ? (p.grad.data() as Float32Array) : new Float32Array(p.size)));
      // 2D: average the gradients over the data-parallel replicas of this rank (one flat all-reduce).
      if (options.dataParallel && options.dataParallel.worldSize > 1) await allReduceGradients(options.dataParallel, host, [host.map((_, i) => i)]);
      // Norm: sharded parts summed across ranks, replicated parts counted once.
      const ss = new Float64Array(2);
      host.forEach((h, i) => {
        for (const v of h.grad) ss[trainables[i].sharded ? 1 : 0] += v * v;
      });
      const part = new Float64Array([ss[1]]);
      await comm.allReduce(part, 'sum');
      const gradNorm = Math.sqrt(ss[0] + part[0]);
      if (clip > 0 && Number.isFinite(gradNorm)) {
        const coef = clip / (gradNorm + 1e-6);
        if (coef < 1) for (const h of host) for (let i = 0; i < h.grad.length; i++) h.grad[i] *= coef;
      }
      optimizer.step(lr);
      trainables.forEach(({ tensor: p }, i) => p.write(host[i].data));
      return { loss: loss / batches.length, gradNorm };
    },
    memory(): MemoryReport {
      const st = optimizer.stateDict();
      const bytes = host.reduce((a, h) => a + h.data.byteLength, 0);
      return memoryReport(bytes, bytes, [...Object.values(st.m), ...Object.values(st.v)].reduce((a, x) => a + x.byteLength, 0));
    },
    fullParameters: () => stage.assemble((p) => p.tensor.data() as Float32Array),
    denseGradients: () => stage.assemble((p) => (p.tensor.grad ? (p.tensor.grad.data() as Float32Array) : new Float32Array(p.tensor.size))),
  };
}
