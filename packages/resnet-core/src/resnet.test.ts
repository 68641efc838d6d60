import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { countParams } from './count';
import { withPlaceholderWeights } from './layer-helpers';
import { buildResNet } from './resnet';

const skeleton = (config: Parameters<typeof buildResNet>[0]) =>
  withPlaceholderWeights(() => buildResNet(config));
const layerNames = (model: tfl.LayersModel) => model.layers.map((l) => l.name);

describe('buildResNet shapes', () => {
  it.each([10, 18, 34, 50, 101, 152, 200])(
    'ImageNet ResNet-%i: 1000 classes, 7x7 final feature map',
    (depth) => {
      const model = skeleton({ depth });
      expect(model.outputs[0]!.shape).toEqual([null, 1000]);
      const features = skeleton({ depth, includeTop: false });
      const channels = depth >= 50 ? 2048 : 512;
      expect(features.outputs[0]!.shape).toEqual([null, 7, 7, channels]);
      model.dispose();
      features.dispose();
    },
  );

  it.each([8, 20, 32, 44, 56, 110])('CIFAR ResNet-%i: 10 classes, 8x8x64 final feature map', (depth) => {
    const model = skeleton({ depth, numClasses: 10 });
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    const features = skeleton({ depth, includeTop: false });
    expect(features.outputs[0]!.shape).toEqual([null, 8, 8, 64]);
    model.dispose();
    features.dispose();
  });

  it('builds the 9n+2 bottleneck CIFAR family (ResNet-164 v2)', () => {
    const model = skeleton({ depth: 164, block: 'bottleneck', preactivation: true, numClasses: 10 });
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    // He et al. 2016 report 1.7M parameters for ResNet-164.
    expect(countParams(model).trainable / 1e6).toBeCloseTo(1.7, 1);
    model.dispose();
  });

  it('pools, widens and accepts variable input sizes', () => {
    expect(skeleton({ depth: 18, includeTop: false, pooling: 'max' }).outputs[0]!.shape).toEqual([null, 512]);
    expect(skeleton({ depth: 18, includeTop: false, pooling: 'avg' }).outputs[0]!.shape).toEqual([null, 512]);
    expect(skeleton({ depth: 20, width: 4, includeTop: false }).outputs[0]!.shape).toEqual([null, 8, 8, 256]);
    expect(skeleton({ depth: 50, inputShape: [null, null, 3], includeTop: false }).outputs[0]!.shape).toEqual(
      [null, null, null, 2048],
    );
    expect(skeleton({ depth: 50, inputShape: [96, 128, 1], includeTop: false }).outputs[0]!.shape).toEqual([
      null,
      3,
      4,
      2048,
    ]);
  });
});

describe('Keras-compatible names', () => {
  it('ResNet-50 layer names are stable (the weight-file contract)', () => {
    const model = skeleton({ depth: 50 });
    expect(layerNames(model)).toMatchSnapshot();
    model.dispose();
  });

  it('with the stride on the 1x1 and conv biases it has keras.applications.ResNet50’s parameter counts', () => {
    const model = skeleton({ depth: 50, strideOn: '1x1', convBias: true });
    // keras.applications.ResNet50().summary(): 25,636,712 total, 25,583,592 trainable.
    expect(countParams(model)).toEqual({ trainable: 25_583_592, nonTrainable: 53_120, total: 25_636_712 });
    const names = layerNames(model);
    for (const name of [
      'conv1_conv',
      'conv2_block1_0_conv',
      'conv2_block1_3_bn',
      'conv5_block3_out',
      'avg_pool',
    ]) {
      expect(names).toContain(name);
    }
    model.dispose();
  });

  it('names the option A shortcut and the v2 pre-activation layers', () => {
    const a = layerNames(skeleton({ depth: 20 }));
    expect(a).toContain('conv3_block1_0_shortcut');
    expect(a).not.toContain('conv3_block1_0_conv');
    const v2 = layerNames(skeleton({ depth: 50, preactivation: true }));
    expect(v2).toEqual(
      expect.arrayContaining(['conv2_block1_preact_bn', 'conv2_block1_preact_relu', 'post_bn', 'post_relu']),
    );
    expect(v2).not.toContain('conv1_bn');
  });

  it('shortcut C projects in every block, B only where the shape changes', () => {
    const countProjections = (shortcut: 'B' | 'C') =>
      layerNames(skeleton({ depth: 18, shortcut })).filter((n) => n.endsWith('_0_conv')).length;
    expect(countProjections('B')).toBe(3);
    expect(countProjections('C')).toBe(8);
  });
});

describe('initialisation', () => {
  const gammaOf = (model: tfl.LayersModel, name: string) => model.getLayer(name).getWeights()[0]!.dataSync();

  it('zeroInitResidual zeroes exactly the last BN gamma of each residual branch', () => {
    const model = buildResNet({ depth: 20, numClasses: 10, seed: 3 });
    const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => l.name);
    const last = bns.filter((n) => n.endsWith('_2_bn'));
    expect(last).toHaveLength(9);
    for (const name of bns) {
      const expected = last.includes(name) ? 0 : 1;
      expect(Array.from(gammaOf(model, name)).every((g) => g === expected)).toBe(true);
    }
    model.dispose();
  });

  it('zeroes the third BN of bottlenecks, and nothing when disabled', () => {
    const model = buildResNet({ depth: 29, block: 'bottleneck', numClasses: 10, seed: 3 });
    expect(Array.from(gammaOf(model, 'conv2_block1_3_bn')).every((g) => g === 0)).toBe(true);
    expect(Array.from(gammaOf(model, 'conv2_block1_2_bn')).every((g) => g === 1)).toBe(true);
    const off = buildResNet({ depth: 20, numClasses: 10, zeroInitResidual: false, seed: 3 });
    expect(Array.from(gammaOf(off, 'conv2_block1_2_bn')).every((g) => g === 1)).toBe(true);
    model.dispose();
    off.dispose();
  });

  it('in v2 zeroes the last convolution of each branch instead', () => {
    const model = buildResNet({ depth: 20, preactivation: true, numClasses: 10, seed: 3 });
    const kernel = (name: string) => Array.from(model.getLayer(name).getWeights()[0]!.dataSync());
    expect(kernel('conv2_block1_2_conv').every((w) => w === 0)).toBe(true);
    expect(kernel('conv2_block1_1_conv').some((w) => w !== 0)).toBe(true);
    model.dispose();
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const weights = (seed: number) => {
      const model = buildResNet({ depth: 8, numClasses: 4, seed });
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return values;
    };
    expect(weights(7)).toEqual(weights(7));
    expect(weights(7)).not.toEqual(weights(8));
  });

  it('He-initialises convolutions (std ≈ sqrt(2 / fan_in))', () => {
    const model = buildResNet({ depth: 20, numClasses: 10, seed: 1 });
    const kernel = model.getLayer('conv4_block2_1_conv').getWeights()[0]!;
    const std = tf.tidy(() => tf.sqrt(tf.moments(kernel).variance).dataSync()[0]!);
    expect(std).toBeGreaterThan(Math.sqrt(2 / (9 * 64)) * 0.85);
    expect(std).toBeLessThan(Math.sqrt(2 / (9 * 64)) * 1.15);
    model.dispose();
  });
});
