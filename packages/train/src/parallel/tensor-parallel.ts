// Megatron tensor parallelism for an @lmkit/model decoder: attention split by heads, the MLP column- then row-parallel, a vocab-parallel embedding and loss.
import type { DecoderLM } from '@lmkit/model';
import { assertCheckpointable } from '../gradient-checkpointing.js';
import type { ObjectiveBatch } from '../objectives/objective.js';
import type { AdamWOptions } from '../optim/adamw.js';
import type { LossScalerOptions } from '../precision/loss-scaler.js';
import type { Precision } from '../trainer.js';
import type { Communicator } from './communicator.js';
import { megatronStage } from './megatron-stage.js';
import { ModelParallelOptimizer, zeroStageOf } from './model-parallel-optimizer.js';
import { memoryReport, type FullTrainingState, type MemoryReport, type ParallelStrategy, type StepResult } from './strategy.js';

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
  /** 'fp32', or 'bf16'/'fp16' with fp32 masters (fp16 with dynamic loss scaling agreed across ranks). Default 'fp32'. */
  precision?: Precision;
  /** Loss scaler settings (fp16 only). Default GradScaler's. */
  lossScaler?: LossScalerOptions;
  /** ZeRO stage over `dataParallel` (DeepSpeed 3D): 1 shards the AdamW state of this rank's parameters over the replicas, 2 also their gradients (reduce-scatter); 3 is refused. Default 0. */
  zeroStage?: 0 | 1 | 2;
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
 * positions are replicated (their AdamW moments live on rank 0, which updates and broadcasts
 * them). The update is the shared optimizer step (bf16/fp16 with fp32 masters, fp16 overflow
 * agreed across ranks), and `exportState`/`importState` move the full training state by dense
 * parameter name for checkpoints. Gradients equal the dense model's.
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
  const mpo = new ModelParallelOptimizer(stage, model, { optimizer: options.optimizer, gradClip: options.gradClip, precision: options.precision, lossScaler: options.lossScaler, zeroStage: zeroStageOf(options.zeroStage), dataParallel: options.dataParallel ?? null, tp: comm });

  const lossAndBackward = async (batch: ObjectiveBatch, lossScale: number): Promise<number> => {
    const micro = await stage.forward(batch.inputIds, batch.targets, batch.batchSize, batch.seqLen, lossScale);
    await micro.backward(null);
    return micro.loss;
  };

  return {
    name: mpo.zeroStage ? `tp×zero${mpo.zeroStage}` : 'tp',
    precision: options.precision ?? 'fp32',
    lossAndBackward,
    async step(batches: readonly ObjectiveBatch[], lr: number): Promise<StepResult> {
      model.train();
      for (const p of stage.params) p.tensor.zeroGrad();
      let loss = 0;
      for (const b of batches) loss += await lossAndBackward(b, mpo.lossScale / batches.length);
      // 2D: average over the data-parallel replicas; then the shared optimizer step (norm over the tp group, fp16 overflow agreed).
      await mpo.reduceGradients(options.dataParallel);
      const { gradNorm, skipped } = await mpo.step(lr);
      return { loss: loss / batches.length, gradNorm, skipped, ...(mpo.opt.scaler ? { lossScale: mpo.opt.scaler.scale } : {}) };
    },
    memory(): MemoryReport {
      const b = mpo.bytes();
      return memoryReport(b.params, b.grads, b.optimizer);
    },
    fullParameters: () => mpo.gather((p) => mpo.masterOf(p)),
    exportState: () => mpo.exportState(),
    async importState(state: FullTrainingState): Promise<void> {
      mpo.importState(state);
    },
    denseGradients: () => stage.assemble((p) => (p.tensor.grad ? (p.tensor.grad.data() as Float32Array) : new Float32Array(p.tensor.size))),
  };
}
