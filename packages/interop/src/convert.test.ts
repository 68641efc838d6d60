import * as tf from '@tensorflow/tfjs-core';
import { convertWeights, type WeightSource } from './convert';
import { readSafetensors } from './formats/safetensors';
import { IMAGENET_CLASS_NAMES, IMAGENET_WNIDS } from './imagenet-classes';
import { encodeSafetensors, fixtureBytes, fixtureIo, maxAbsDifference } from './testing';

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

describe('convertWeights: labels', () => {
  it('names the 1,000 ILSVRC-2012 classes of a 1,000-way net in torchvision order', () => {
    const tensors = readSafetensors(fixtureBytes('tv_resnet20_b.safetensors'), 'fixture');
    tensors.set('fc.weight', { dtype: 'float32', shape: [1000, 64], values: new Float32Array(64_000) });
    tensors.set('fc.bias', { dtype: 'float32', shape: [1000], values: new Float32Array(1000) });
    const converted = convertWeights(encodeSafetensors(tensors), 'imagenet-head.safetensors', {
      from: 'torchvision',
    });
    converted.model.dispose();
    expect(converted.labels).toHaveLength(1000);
    expect(converted.labels?.slice(0, 3)).toEqual(['tench', 'goldfish', 'great white shark']);
    expect(converted.labels?.[999]).toBe(IMAGENET_CLASS_NAMES[999]);
    expect(IMAGENET_WNIDS[0]).toBe('n01440764');
    expect([...IMAGENET_WNIDS].sort()).toEqual([...IMAGENET_WNIDS]); // class index = sorted WordNet id
  });

  it('leaves other class counts unnamed', () => {
    const converted = convertWeights(fixtureBytes('tv_resnet8_a.pth'), 'x.pth', { from: 'torchvision' });
    converted.model.dispose();
    expect(converted.labels).toBeUndefined();
  });
});
