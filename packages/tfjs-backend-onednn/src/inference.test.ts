import { buildResNet, foldBatchNorm, type ResNetConfig } from '@resnet-ts/resnet-core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import './index';
import { getKernel } from '@tensorflow/tfjs-core';
import { describeNative, relativeError, seededValues } from './testing';

/** Gives every batch norm non-trivial statistics, scale and offset, as a trained model has. */
function randomiseBatchNorms(model: tfl.LayersModel): void {
  let seed = 100;
  for (const layer of model.layers) {
    if (!layer.getClassName().includes('BatchNorm')) continue;
    const weights = layer.getWeights().map((w, i) => {
      const u = seededValues(seed++, w.size).map((v) => (v + 1) / 2);
      // gamma, beta, moving mean, moving variance (variance must stay positive)
      return tf.tensor(
        u.map((v) => (i === 3 ? 0.2 + v : i === 0 ? 0.5 + v : v - 0.5)),
        w.shape,
      );
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

/** A seeded model with trained-looking batch norms, built on the current backend. */
function trainedLooking(config: ResNetConfig): tfl.LayersModel {
  const model = buildResNet({ ...config, seed: 7, classifierActivation: 'linear' });
  randomiseBatchNorms(model);
  return model;
}

/**
 * The original model's predictions on cpu, and the folded and fused model's on onednn (the same
 * seeded model, built on each backend so that no tensor moves between them).
 */
async function predictions(config: ResNetConfig, batch: number) {
  const [h, w] = config.inputShape!;
  const input = () => tf.tensor4d(seededValues(3, batch * h! * w! * 3), [batch, h!, w!, 3]);
  await tf.setBackend('cpu');
  const model = trainedLooking(config);
  const expected = tf.tidy(() => Float32Array.from((model.predict(input()) as tf.Tensor).dataSync()));
  model.dispose();
  await tf.setBackend('onednn');
  const original = trainedLooking(config);
  const { model: fused, fused: merged } = foldBatchNorm(original);
  // Twice: the second call reuses the reordered weights the first one made.
  const actual = [0, 1].map(() =>
    tf.tidy(() => Float32Array.from((fused.predict(input()) as tf.Tensor).dataSync())),
  );
  original.dispose();
  fused.dispose();
  return { expected, actual, merged };
}

// Forward only: the fused convolution is an inference kernel.
describeNative('folded and fused ResNets on onednn', () => {
  it('registers the ResNetFusedConv2D kernel', () => {
    expect(getKernel('ResNetFusedConv2D', 'onednn')).toBeDefined();
  });

  it.each([
    ['ResNet-20, option A shortcuts', { depth: 20, numClasses: 10, inputShape: [16, 16, 3] }, 11],
    [
      'ResNet-20, option B shortcuts',
      { depth: 20, numClasses: 10, inputShape: [16, 16, 3], shortcut: 'B' },
      11,
    ],
    [
      'ResNet-50 layout (bottlenecks, 7x7 stem), quarter width',
      { depth: 50, numClasses: 7, inputShape: [32, 32, 3], width: 0.25 },
      20,
    ],
    [
      'ResNet-18 v2 (pre-activation: additions without a ReLU)',
      { depth: 18, numClasses: 5, inputShape: [32, 32, 3], width: 0.25, preactivation: true },
      12,
    ],
  ] as [string, ResNetConfig, number][])(
    '%s predicts what the original predicts on cpu',
    async (_name, config, fusedLayers) => {
      const { expected, actual, merged } = await predictions(config, 2);
      expect(merged).toHaveLength(fusedLayers);
      for (const a of actual) expect(relativeError(a, expected)).toBeLessThan(1e-4);
    },
  );
});
