import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildAlexNet } from './alexnet';
import { BatchNormalization } from './layers/batch-normalization';
import { buildResNet } from './resnet';
import { seededUniform } from './test-random';

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // Through JSON text, as a model.json file would be.
  const topology = JSON.parse(JSON.stringify(saved!.modelTopology));
  return tfl.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology: topology }));
}

describe('forward pass on the cpu backend', () => {
  it('CIFAR ResNet-20 gives a probability distribution per image and leaks no tensors', () => {
    const model = buildResNet({ depth: 20, numClasses: 10, seed: 1 });
    const x = tf.tensor4d(seededUniform(1, 2 * 32 * 32 * 3), [2, 32, 32, 3]);
    const before = tf.memory().numTensors;
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 10]);
    const sums = tf.tidy(() => tf.sum(y, 1).arraySync() as number[]);
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('ImageNet ResNet-18 (v1) and ResNet-50 v2 run at a reduced input size', () => {
    for (const config of [
      { depth: 18, numClasses: 5 },
      { depth: 50, numClasses: 5, preactivation: true, width: 0.25, classifierActivation: 'linear' as const },
    ]) {
      const model = buildResNet({ ...config, inputShape: [64, 64, 3], seed: 2 });
      const y = tf.tidy(
        () => model.predict(tf.tensor4d(seededUniform(2, 64 * 64 * 3), [1, 64, 64, 3])) as tf.Tensor,
      );
      expect(y.shape).toEqual([1, 5]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
      model.dispose();
    }
  });
});

describe('training', () => {
  it('a few SGD steps on a tiny CIFAR-family model reduce the loss', async () => {
    // Two classes told apart by which half of a 4x4 image is bright (kept tiny: the pure-JS
    // backend's Conv2DBackpropFilter is slow, and slower still inside jest's sandbox).
    const n = 16;
    const images = seededUniform(5, n * 4 * 4 * 3).map((v) => v * 0.2);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const cls = i % 2;
      labels.push(cls);
      for (let r = 0; r < 4; r++)
        for (let c = cls * 2; c < cls * 2 + 2; c++)
          for (let ch = 0; ch < 3; ch++) {
            const k = ((i * 4 + r) * 4 + c) * 3 + ch;
            images[k] = images[k]! + 0.8;
          }
    }
    const x = tf.tensor4d(images, [n, 4, 4, 3]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const model = buildResNet({ depth: 8, numClasses: 2, inputShape: [4, 4, 3], seed: 11 });
    model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 6, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.7);
    tf.dispose([x, y]);
    model.dispose();
  }, 180_000); // ~15 s alone on the pure-JS backend; generous for a loaded machine
});

describe('save and load', () => {
  const input = (shape: [number, number, number]) =>
    tf.tensor4d(seededUniform(9, 2 * shape[0] * shape[1] * shape[2]), [2, ...shape]);

  it.each([
    [
      'CIFAR ResNet-20, option A shortcuts',
      () => buildResNet({ depth: 20, numClasses: 10, seed: 4, zeroInitResidual: false }),
    ],
    [
      'ResNet-20 v2 with dropout',
      () => buildResNet({ depth: 20, numClasses: 10, seed: 4, preactivation: true, dropout: 0.2 }),
    ],
    ['AlexNet with LRN', () => buildAlexNet({ numClasses: 7, inputShape: [67, 67, 3], seed: 4 })],
  ])('%s: the loaded model gives identical outputs', async (_label, build) => {
    const model = build();
    const shape = model.inputs[0]!.shape.slice(1) as [number, number, number];
    const x = input(shape);
    const loaded = await roundTrip(model);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    const actual = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it('keeps the Keras class name BatchNormalization and loads it back as the fused-capable layer', async () => {
    const model = buildResNet({ depth: 8, numClasses: 3, inputShape: [8, 8, 3], seed: 1 });
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"class_name":"BatchNormalization"');
    expect(json).not.toContain('ResNetBatchNorm');
    const loaded = await roundTrip(model);
    expect(loaded.getLayer('conv1_bn')).toBeInstanceOf(BatchNormalization);
    model.dispose();
    loaded.dispose();
  });
});
