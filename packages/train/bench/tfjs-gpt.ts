// The benchmark anchor: the same GPT-2-style model and training step written in TensorFlow.js (wasm backend).
import * as tf from '@tensorflow/tfjs';

/** Reference model shape. */
export interface GptShape {
  /** Vocabulary. */
  vocab: number;
  /** Width C. */
  dModel: number;
  /** Blocks L. */
  nLayer: number;
  /** Heads H. */
  nHead: number;
  /** Context T. */
  seqLen: number;
}

/**
 * A pre-norm GPT-2 (learned positions, LayerNorm, causal MHA, GELU-tanh MLP, tied head) with
 * an Adam training step (TensorFlow.js has no AdamW), built from tfjs ops.
 */
export function createTfjsGpt(shape: GptShape, seed = 0): { step: (ids: Int32Array, targets: Int32Array, batch: number) => number; dispose: () => void } {
  const { vocab: V, dModel: C, nLayer: L, nHead: H, seqLen: T } = shape;
  const D = C / H;
  let s = seed;
  const normal = (dims: number[], std: number): tf.Variable => tf.variable(tf.randomNormal(dims, 0, std, 'float32', s++));
  const zeros = (dims: number[]): tf.Variable => tf.variable(tf.zeros(dims));
  const ones = (dims: number[]): tf.Variable => tf.variable(tf.ones(dims));
  const wte = normal([V, C], 0.02);
  const wpe = normal([T, C], 0.02);
  const blocks = Array.from({ length: L }, () => ({
    ln1g: ones([C]), ln1b: zeros([C]),
    qkvW: normal([C, 3 * C], 0.02), qkvB: zeros([3 * C]),
    projW: normal([C, C], 0.02 / Math.sqrt(2 * L)), projB: zeros([C]),
    ln2g: ones([C]), ln2b: zeros([C]),
    fcW: normal([C, 4 * C], 0.02), fcB: zeros([4 * C]),
    fc2W: normal([4 * C, C], 0.02 / Math.sqrt(2 * L)), fc2B: zeros([C]),
  }));
  const lnfg = ones([C]);
  const lnfb = zeros([C]);
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // lower triangle = 1
  const negMask = tf.mul(tf.sub(1, mask), -1e9);
  const optimizer = tf.train.adam(3e-4, 0.9, 0.95, 1e-8);

  const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x: tf.Tensor): tf.Tensor =>
    tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));

  const loss = (ids: tf.Tensor2D, targets: tf.Tensor1D, B: number): tf.Scalar => {
    // NOTE: the wasm backend lacks UnsortedSegmentSum (gather's gradient), so the embedding is a one-hot matmul.
    const tok = tf.matMul(tf.oneHot(tf.reshape(ids, [B * T]), V), wte); // (B·T, C)
    let x = tf.add(tf.reshape(tok, [B, T, C]), wpe) as tf.Tensor; // (B, T, C)
    for (const p of blocks) {
      const h = tf.reshape(layerNorm(x, p.ln1g, p.ln1b), [B * T, C]);
      const qkv = tf.reshape(tf.add(tf.matMul(h, p.qkvW), p.qkvB), [B, T, 3, H, D]);
      const q = tf.transpose(tf.squeeze(tf.slice(qkv, [0, 0, 0, 0, 0], [B, T, 1, H, D]), [2]), [0, 2, 1, 3]); // (B, H, T, D)
      const k = tf.transpose(tf.squeeze(tf.slice(qkv, [0, 0, 1, 0, 0], [B, T, 1, H, D]), [2]), [0, 2, 1, 3]);
      const v = tf.transpose(tf.squeeze(tf.slice(qkv, [0, 0, 2, 0, 0], [B, T, 1, H, D]), [2]), [0, 2, 1, 3]);
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), negMask));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, tf.reshape(tf.add(tf.matMul(y, p.projW), p.projB), [B, T, C]));
      const h2 = tf.reshape(layerNorm(x, p.ln2g, p.ln2b), [B * T, C]);
      const m = tf.add(tf.matMul(gelu(tf.add(tf.matMul(h2, p.fcW), p.fcB)), p.fc2W), p.fc2B);
      x = tf.add(x, tf.reshape(m, [B, T, C]));
    }
    const logits = tf.matMul(tf.reshape(layerNorm(x, lnfg, lnfb), [B * T, C]), wte, false, true); // (B·T, V)
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits) as tf.Scalar;
  };

  return {
    step(ids: Int32Array, targets: Int32Array, B: number): number {
      const value = tf.tidy(() => {
        const idsT = tf.tensor2d(ids, [B, T], 'int32');
        const tgT = tf.tensor1d(targets, 'int32');
        const cost = optimizer.minimize(() => loss(idsT, tgT, B), true);
        return (cost as tf.Scalar).dataSync()[0];
      });
      return value;
    },
    dispose(): void {
      tf.disposeVariables();
      optimizer.dispose();
      mask.dispose();
      negMask.dispose();
    },
  };
}
