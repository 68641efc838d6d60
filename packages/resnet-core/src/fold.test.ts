import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { foldBatchNorm } from './fold';
import { buildResNet } from './resnet';
import { seededUniform } from './test-random';

/** Gives every batch norm non-trivial statistics, scale and offset, as a trained model has. */
function randomiseBatchNorms(model: tfl.LayersModel, seed: number): void {
  let next = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const weights = layer.getWeights().map((w, i) => {
      const u = seededUniform(next++, w.size);
      // gamma, beta, moving mean, moving variance (variance must stay positive)
      const values = u.map((v) => (i === 3 ? 0.2 + v : i === 0 ? 0.5 + v : v - 0.5));
      return tf.tensor(values, w.shape);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

const CASES = [
  [
    'ResNet-20 (option A shortcuts)',
    { depth: 20, numClasses: 10, inputShape: [16, 16, 3] as const },
    'all',
    // 9 blocks: each second convolution takes its addition and ReLU (2 option-A shortcuts with
    // them); the 2 strided first convolutions take their ZeroPadding2D.
    { residual: 9, relu: 9, shortcut: 2, padding: 2, layers: 22 },
  ],
  [
    'ResNet-20 (option B: projection shortcuts)',
    { depth: 20, numClasses: 10, inputShape: [16, 16, 3] as const, shortcut: 'B' as const },
    'all',
    { residual: 9, relu: 9, shortcut: 0, padding: 2, layers: 24 },
  ],
  [
    'ResNet-50 (projection shortcuts, bottlenecks)',
    { depth: 50, numClasses: 7, inputShape: [32, 32, 3] as const, width: 0.25 },
    'all',
    // 16 blocks; the stem's 7x7 and the 3 strided 3x3 convolutions take their padding.
    { residual: 16, relu: 16, shortcut: 0, padding: 4, layers: 57 },
  ],
  [
    'ResNet-20 built with fused batch norm + ReLU layers',
    { depth: 20, numClasses: 10, inputShape: [16, 16, 3] as const, fuseBatchNormRelu: true },
    'all',
    { residual: 9, relu: 9, shortcut: 2, padding: 2, layers: 22 },
  ],
  [
    'ResNet-18 v2 (pre-activation: the first batch norm of a block follows an addition)',
    { depth: 18, numClasses: 5, inputShape: [32, 32, 3] as const, preactivation: true, width: 0.5 },
    8, // v2's stem and every block's last convolution feed additions or pooling
    // Additions without a ReLU (the next block's batch norm reads them); stem and 3 strided convs padded.
    { residual: 8, relu: 0, shortcut: 0, padding: 4, layers: 44 },
  ],
] as const;

function buildTrained(config: (typeof CASES)[number][1]): tfl.LayersModel {
  const model = buildResNet({
    ...config,
    inputShape: [...config.inputShape],
    seed: 3,
    classifierActivation: 'linear',
  });
  randomiseBatchNorms(model, 10);
  return model;
}

describe('foldBatchNorm', () => {
  it.each(CASES)(
    '%s predicts what the original predicts (batch norms folded only)',
    (_, config, expectedFolds) => {
      const model = buildTrained(config);
      const layersBefore = model.layers.length;
      const { model: folded, folded: chains, fused } = foldBatchNorm(model, { fuse: false });
      expect(fused).toEqual([]);
      const convs = model.layers.filter((layer) => layer.getClassName() === 'Conv2D').length;
      expect(chains).toHaveLength(expectedFolds === 'all' ? convs : expectedFolds);
      expect(model.layers).toHaveLength(layersBefore); // the original is untouched
      const removed = chains.reduce((n, chain) => n + (chain.activation ? 2 : 1), 0);
      expect(folded.layers).toHaveLength(layersBefore - removed);
      expect(folded.layers.some((layer) => layer.name === chains[0]!.batchNorm)).toBe(false);

      const [h, w] = config.inputShape;
      const x = tf.tensor4d(seededUniform(4, 2 * h * w * 3), [2, h, w, 3]);
      const expected = model.predict(x) as tf.Tensor;
      const actual = folded.predict(x) as tf.Tensor;
      expect(relativeError(actual, expected)).toBeLessThan(1e-4);
      expect(tf.util.arraysEqual(actual.shape, expected.shape)).toBe(true);
      tf.dispose([x, expected, actual]);
      model.dispose();
      folded.dispose();
    },
  );

  it.each(CASES)(
    '%s: residual additions, ReLUs, shortcuts and padding fuse into the convolutions, same predictions',
    (_, config, _folds, expected) => {
      const model = buildTrained(config);
      const { model: foldedOnly } = foldBatchNorm(model, { fuse: false });
      const { model: fusedModel, fused } = foldBatchNorm(model);
      const count = (key: 'add' | 'activation' | 'shortcut' | 'padding') =>
        fused.filter((f) => f[key] !== undefined).length;
      expect({
        residual: count('add'),
        relu: count('activation'),
        shortcut: count('shortcut'),
        padding: count('padding'),
        layers: fusedModel.layers.length,
      }).toEqual(expected);
      for (const name of fused.flatMap((f) => [f.add, f.activation, f.shortcut, f.padding])) {
        if (name !== undefined) expect(fusedModel.layers.some((layer) => layer.name === name)).toBe(false);
      }
      expect(fusedModel.getLayer(fused[0]!.conv).getClassName()).toBe('ResNetFusedConv2D');

      const [h, w] = config.inputShape;
      const x = tf.tensor4d(seededUniform(5, 2 * h * w * 3), [2, h, w, 3]);
      const original = model.predict(x) as tf.Tensor;
      const plain = foldedOnly.predict(x) as tf.Tensor;
      const actual = fusedModel.predict(x) as tf.Tensor;
      expect(relativeError(actual, original)).toBeLessThan(1e-4);
      // Without the ResNetFusedConv2D kernel (the cpu backend) the layer runs the replaced
      // layers' ops in their order: the same bits as the model with the batch norms folded only.
      expect(tf.max(tf.abs(tf.sub(actual, plain))).dataSync()[0]).toBe(0);
      tf.dispose([x, original, plain, actual]);
      model.dispose();
      foldedOnly.dispose();
      fusedModel.dispose();
    },
  );

  it('leaves a convolution alone when its output feeds more than one layer, or has an activation', () => {
    const input = tfl.input({ shape: [8, 8, 2] });
    const shared = tfl.layers
      .conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'shared' })
      .apply(input);
    const a = tfl.layers.batchNormalization({ name: 'bn_a' }).apply(shared);
    const b = tfl.layers.activation({ activation: 'relu', name: 'relu_b' }).apply(shared);
    const activated = tfl.layers
      .conv2d({ filters: 3, kernelSize: 1, activation: 'relu', name: 'activated' })
      .apply(input) as tfl.SymbolicTensor;
    const bnAfterActivation = tfl.layers.batchNormalization({ name: 'bn_c' }).apply(activated);
    const model = tfl.model({
      inputs: input,
      outputs: tfl.layers
        .concatenate()
        .apply([a, b, bnAfterActivation] as tfl.SymbolicTensor[]) as tfl.SymbolicTensor,
    });
    const { folded, model: copy } = foldBatchNorm(model);
    expect(folded).toEqual([]);
    expect(copy.layers.map((layer) => layer.name)).toEqual(model.layers.map((layer) => layer.name));
    model.dispose();
    copy.dispose();
  });

  it('refuses a Sequential model with a clear message', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => foldBatchNorm(model)).toThrow('foldBatchNorm: expected a functional model');
  });
});
