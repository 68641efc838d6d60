import * as tf from '@tensorflow/tfjs-core';
import { convertWeights, type WeightSource } from './convert';
import { fixtureBytes, fixtureIo, maxAbsDifference } from './testing';

// Logits of the converted model against the framework's own on the same input (fixtures made by
// PyTorch 2.13 + torchvision 0.28 / timm 1.0 and Keras 3.15 with random weights and BN statistics).
const TOLERANCE = 1e-4;

const CASES: {
  file: string;
  from: WeightSource;
  io: string;
  depth: number;
  expect: Record<string, unknown>;
}[] = [
  {
    file: 'tv_resnet20_b.safetensors',
    from: 'torchvision',
    io: 'tv_resnet20_b',
    depth: 20,
    expect: { family: 'cifar', shortcut: 'B' },
  },
  {
    file: 'tv_resnet8_a.pth',
    from: 'torchvision',
    io: 'tv_resnet8_a',
    depth: 8,
    expect: { family: 'cifar', shortcut: 'A' },
  },
  {
    file: 'tv_resnet50_w16.pth',
    from: 'torchvision',
    io: 'tv_resnet50_w16',
    depth: 50,
    expect: { family: 'imagenet', strideOn: '3x3', width: 1 / 16 },
  },
  {
    file: 'timm_resnet18_w16.safetensors',
    from: 'timm',
    io: 'timm_resnet18_w16',
    depth: 18,
    expect: { family: 'imagenet', numClasses: 7 },
  },
  {
    file: 'keras_resnet8_b.keras',
    from: 'keras',
    io: 'keras_resnet8_b',
    depth: 8,
    expect: { family: 'cifar', convBias: false },
  },
  {
    file: 'keras_resnet50_w16.weights.h5',
    from: 'keras',
    io: 'keras_resnet50_w16',
    depth: 50,
    expect: { strideOn: '1x1', convBias: true },
  },
  {
    file: 'keras_resnet50_w16.h5',
    from: 'keras',
    io: 'keras_resnet50_w16',
    depth: 50,
    expect: { strideOn: '1x1', convBias: true },
  },
];

describe('convertWeights: the same logits as the framework', () => {
  it.each(CASES)('$file (--from $from)', ({ file, from, io, depth, expect: expected }) => {
    const { input, logits } = fixtureIo(io);
    const converted = convertWeights(fixtureBytes(file), file, {
      from,
      depth,
      imageSize: input.shape[1],
      classifierActivation: 'linear',
    });
    try {
      expect(converted.config).toMatchObject({ depth, ...expected });
      const output = tf.tidy(
        () => converted.model.predict(tf.tensor(input.values, input.shape)) as tf.Tensor,
      );
      expect(output.shape).toEqual(logits.shape);
      const difference = maxAbsDifference(output.dataSync(), logits.values);
      output.dispose();
      expect(difference).toBeLessThan(TOLERANCE);
      expect(converted.normalization).toBe(from === 'keras' ? 'caffe' : 'imagenet');
    } finally {
      converted.model.dispose();
    }
  });
});
