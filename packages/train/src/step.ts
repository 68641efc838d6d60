import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Optimizer } from './optim';

/** One optimisation step: forward, loss, gradients, update. Returns the loss and the logits. */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: Optimizer,
  vars: tf.Variable[],
  x: Float32Array,
  labels: Int32Array,
  [height, width]: [number, number],
  numClasses: number,
  labelSmoothing: number,
  lr: number,
  /** Soft targets (N × classes) of a mixed batch; one-hot `labels` otherwise. */
  soft?: Float32Array,
): { loss: number; scores: Float32Array } {
  const input = tf.tensor4d(x, [labels.length, height, width, 3]);
  const targets = soft
    ? tf.tensor2d(soft, [labels.length, numClasses])
    : tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses), 'float32'));
  let logits: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(input, { training: true }) as tf.Tensor;
    logits = tf.keep(out);
    return tf.losses.softmaxCrossEntropy(targets, out, undefined, labelSmoothing) as tf.Scalar;
  }, vars);
  optimizer.apply(
    vars.map((v) => grads[v.name] as tf.Tensor),
    lr,
  );
  const loss = value.dataSync()[0] as number;
  const scores = (logits as tf.Tensor).dataSync() as Float32Array;
  tf.dispose([input, targets, value, logits as tf.Tensor, ...Object.values(grads)]);
  return { loss, scores };
}
