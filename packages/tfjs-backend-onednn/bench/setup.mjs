// The model and batch both bench scripts measure: a ResNet compiled with SGD momentum and
// categorical cross-entropy, on a seeded random batch with one-hot labels.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { buildResNet } from '@resnet-ts/resnet-core';

/** `resnet<depth>` at its usual batch and size (CIFAR: 128 at 32x32; ImageNet: 32 at 224x224). */
export function benchSetup(name, { batch, size, fuse = true } = {}) {
  const depth = Number(name.replace('resnet', ''));
  const cifar = ![18, 34, 50, 101, 152].includes(depth);
  const side = Number(size ?? (cifar ? 32 : 224));
  const batchSize = Number(batch ?? (cifar ? 128 : 32));
  const classes = cifar ? 10 : 1000;
  const model = buildResNet({
    depth,
    numClasses: classes,
    inputShape: [side, side, 3],
    seed: 1,
    fuseBatchNormRelu: fuse,
  });
  model.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([batchSize, side, side, 3], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(
    Array.from({ length: batchSize }, (_, i) => i % classes),
    'int32',
  );
  const y = tf.oneHot(labels, classes);
  labels.dispose();
  return { model, x, y, cifar, size: side, batch: batchSize, classes };
}
