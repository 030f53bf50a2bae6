// Gradient checkpointing for an @lmkit/model decoder: keep only block inputs in the forward pass, recompute each block in backward.
import { DecoderLM, type LanguageModel } from '@lmkit/model';
import { add, crossEntropy, matmul, mul, noGrad, reshape, scope, slice, type Tensor } from '@lmkit/tensor';
import { TrainError } from './errors.js';

/** Throws unless `model` can be trained with {@link checkpointedLossAndBackward} (a dense decoder without dropout). */
export function assertCheckpointable(model: LanguageModel): void {
  const spec = model.spec;
  const why = !(model instanceof DecoderLM)
    ? 'it is not a decoder (DecoderLM)'
    : spec.moe
      ? 'MoE routing keeps per-forward state'
      : spec.embdDropout > 0 || spec.residDropout > 0 || spec.attnDropout > 0
        ? 'dropout would draw different masks when a block is recomputed'
        : null;
  if (why) {
    throw new TrainError('TRAIN_BAD_CONFIG', `gradient checkpointing is not supported for this model: ${why}`, {
      hint: 'turn gradient checkpointing off, or use a dense decoder with all dropout set to 0',
      details: { field: 'gradientCheckpointing' },
    });
  }
}

/**
 * Forward + backward with activation recomputation at block granularity: the forward pass runs
 * without a graph and keeps only each block's input (B, T, C); the backward pass recomputes one
 * block at a time with a graph and back-propagates through it with the incoming gradient as seed.
 * Peak activation memory drops from L blocks' intermediates to one block's, for ~1 extra forward.
 * Parameter gradients accumulate in the tensors' `.grad` exactly as a plain backward would.
 * Returns the (unscaled) loss.
 */
export function checkpointedLossAndBackward(model: DecoderLM, ids: Tensor, targets: Tensor, lossScale: number): number {
  const [B, T] = ids.shape as [number, number];
  const embed = (): Tensor => {
    const x = model.embed.forward(ids); // (B, T, C)
    return model.pos ? add(x, slice(model.pos.weight, 0, 0, T)) : x;
  };
  const blocks = model.blocks.items;
  // Forward without a graph: keep each block's input only.
  const saved: Tensor[] = [];
  noGrad(() => {
    let x = embed();
    for (const block of blocks) {
      saved.push(x);
      x = block.forward(x, { positionOffset: 0 });
    }
    saved.push(x);
  });
  // Head and loss with a graph, from the last hidden state as a leaf.
  const head = saved[blocks.length].detach().requiresGrad_(true);
  const value = headLossBackward(model, head, targets, B, T, lossScale);
  let grad = head.grad as Tensor;
  const leaves = [head];
  // Backward block by block, recomputing each.
  for (let i = blocks.length - 1; i >= 0; i--) {
    const input = saved[i].detach().requiresGrad_(true);
    leaves.push(input);
    scope(() => blocks[i].forward(input, { positionOffset: 0 }).backward(grad));
    grad = input.grad as Tensor;
  }
  scope(() => embed().backward(grad));
  // NOTE: leaf gradients are kept tensors that no scope frees; the saved activations go with them.
  for (const leaf of leaves) leaf.zeroGrad();
  for (const t of [...saved, ...leaves]) t.dispose();
  return value;
}

/**
 * Final norm, LM head (tied or not) and cross-entropy from a detached last hidden state `head`
 * (B, T, C) that requires grad; runs backward of loss × lossScale, so `head.grad` holds the gradient
 * to send back through the blocks. Returns the unscaled loss. Shared by gradient checkpointing and ZeRO-3.
 */
export function headLossBackward(model: DecoderLM, head: Tensor, targets: Tensor, B: number, T: number, lossScale: number): number {
  let value = NaN;
  scope(() => {
    const h = model.normF.forward(head);
    const C = h.shape[2] as number;
    const logits = model.head ? reshape(model.head.forward(h), [B * T, model.spec.vocabSize]) : matmul(reshape(h, [B * T, C]), model.embed.weight, { transB: true });
    const loss = crossEntropy(logits, reshape(targets, [B * T]), { ignoreIndex: -100 });
    value = loss.item();
    mul(loss, lossScale).backward();
  });
  return value;
}
