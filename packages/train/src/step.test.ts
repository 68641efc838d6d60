import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Optimizer } from './optim';
import { trainStep } from './step';

beforeAll(() => tf.setBackend('cpu'));

/** A 1×1×3 image → dense logits model with fixed weights, so the loss can be worked out by hand. */
function tinyModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [1, 1, 3] }),
      tfl.layers.dense({ units: 3, useBias: false, kernelInitializer: 'zeros' }),
    ],
  });
  model.layers[1]?.setWeights([tf.tensor2d([1, 0, 0, 0, 2, 0, 0, 0, -1], [3, 3])]);
  return model;
}

/** Mean over the batch of −Σ_k target_k · log softmax(z)_k, targets (1 − ε)·onehot + ε/K. */
function smoothedLoss(logits: number[][], labels: number[], epsilon: number): number {
  const losses = logits.map((z, n) => {
    const max = Math.max(...z);
    const logSum = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    return -z.reduce(
      (s, v, k) => s + ((k === labels[n] ? 1 - epsilon : 0) + epsilon / z.length) * (v - logSum),
      0,
    );
  });
  return losses.reduce((a, b) => a + b, 0) / losses.length;
}

describe('trainStep', () => {
  const x = Float32Array.from([0.5, 1, 2, -1, 0.25, 3]); // two 1×1 RGB images
  const logits = [
    [0.5, 2, -2],
    [-1, 0.5, -3],
  ];
  const labels = Int32Array.from([1, 0]);

  /** One SGD step (lr 1, no momentum) with smoothing ε: the loss, logits and updated weights. */
  function step(epsilon: number) {
    const model = tinyModel();
    const variable = model.trainableWeights[0]?.read() as tf.Variable;
    const optimizer = new Optimizer({ name: 'sgd', momentum: 0 }, [{ name: 'dense/kernel', variable }]);
    const result = trainStep(model, optimizer, [variable], x, labels, [1, 1], 3, epsilon, 1);
    return { ...result, weights: Array.from(variable.dataSync()) };
  }

  it.each([0, 0.1, 0.3])(
    'with label smoothing %p: the smoothed cross-entropy, its gradient step, the logits',
    (epsilon) => {
      const { loss, scores, weights } = step(epsilon);
      expect(Array.from(scores)).toEqual(logits.flat());
      expect(loss).toBeCloseTo(smoothedLoss(logits, Array.from(labels), epsilon), 5);
      // dL/dz = softmax(z) − target per image, averaged; dL/dW[i][k] = Σ_n x[n][i] · dL/dz[n][k] / N.
      const dz = logits.map((z, n) => {
        const e = z.map((v) => Math.exp(v));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((v, k) => v / sum - ((k === labels[n] ? 1 - epsilon : 0) + epsilon / 3));
      });
      const before = [1, 0, 0, 0, 2, 0, 0, 0, -1];
      const expected = before.map((w, j) => {
        const [i, k] = [Math.floor(j / 3), j % 3];
        return w - (x[i]! * dz[0]![k]! + x[3 + i]! * dz[1]![k]!) / 2;
      });
      for (const [j, w] of weights.entries()) expect(w).toBeCloseTo(expected[j]!, 5);
    },
  );
});
