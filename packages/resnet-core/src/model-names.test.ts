import { depthOfStages } from './depths';
import { ResNetConfigError } from './errors';
import { describeModelNames, isModelName, MODEL_NAMES, parseModelName } from './model-names';

describe('parseModelName', () => {
  it.each([10, 18, 34, 50, 101, 152, 200])(
    'resnet%i is an ImageNet ResNet at 224x224, 1000 classes',
    (depth) => {
      const identity = parseModelName(`resnet${depth}`);
      expect(identity).toMatchObject({
        kind: 'resnet',
        name: `resnet${depth}`,
        depth,
        family: 'imagenet',
        block: depth >= 50 ? 'bottleneck' : 'basic',
        defaults: { inputShape: [224, 224, 3], numClasses: 1000 },
      });
      if (identity.kind === 'resnet') expect(identity.resolved.shortcut).toBe('B');
    },
  );

  it.each([8, 20, 32, 44, 56, 110, 164, 1202])(
    'resnet%i is a 6n+2 CIFAR ResNet at 32x32, 10 classes',
    (depth) => {
      expect(parseModelName(`resnet${depth}`)).toMatchObject({
        kind: 'resnet',
        depth,
        family: 'cifar',
        block: 'basic',
        defaults: { inputShape: [32, 32, 3], numClasses: 10 },
        resolved: { shortcut: 'A', stages: [{ blocks: (depth - 2) / 6 }, {}, {}] },
      });
    },
  );

  it.each([11, 29, 56, 110, 164, 1001])('resnet%i with block bottleneck is a 9n+2 CIFAR ResNet', (depth) => {
    expect(parseModelName(`resnet${depth}`, { block: 'bottleneck' })).toMatchObject({
      family: 'cifar',
      block: 'bottleneck',
      defaults: { inputShape: [32, 32, 3], numClasses: 10 },
      resolved: { stages: [{ blocks: (depth - 2) / 9 }, {}, {}] },
    });
  });

  it('takes the family and the other options into account', () => {
    expect(parseModelName('resnet50', { family: 'cifar' })).toMatchObject({
      family: 'cifar',
      defaults: { inputShape: [32, 32, 3], numClasses: 10 },
    });
    expect(parseModelName('resnet20', { shortcut: 'B', width: 2 })).toMatchObject({
      resolved: { shortcut: 'B', width: 2 },
    });
  });

  it('alexnet is AlexNet at 227x227, 1000 classes', () => {
    expect(parseModelName('alexnet')).toEqual({
      kind: 'alexnet',
      name: 'alexnet',
      family: 'alexnet',
      defaults: { inputShape: [227, 227, 3], numClasses: 1000 },
    });
  });

  it.each([
    ['vgg16', /^model: expected resnet<depth> or alexnet, got "vgg16"; accepted: resnet10, /],
    ['ResNet50', /^model: expected resnet<depth> or alexnet, got "ResNet50"; accepted: /],
    ['resnet', /^model: expected resnet<depth> or alexnet, got "resnet"; accepted: /],
    ['resnet-50', /^model: expected resnet<depth> or alexnet, got "resnet-50"; accepted: /],
    ['', /^model: expected resnet<depth> or alexnet, got ""; accepted: /],
  ])('refuses %j, naming it and listing the accepted names', (name, message) => {
    expect(() => parseModelName(name)).toThrow(message);
    expect(() => parseModelName(name)).toThrow(ResNetConfigError);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'resnet21',
      {},
      /^model: resnet21: depth: cifar depth must be 6n\+2 \(20, 32, 44, 56, 110, …\), got 21; accepted: .*resnet200 \(ImageNet\)/,
    ],
    ['resnet29', {}, /^model: resnet29: depth: cifar depth must be 6n\+2 .*; accepted: /],
    [
      'resnet30',
      { block: 'bottleneck' },
      /^model: resnet30: depth: cifar bottleneck depth must be 9n\+2 \(29, 56, 110, 164, …\), got 30; accepted: /,
    ],
    [
      'resnet20',
      { family: 'imagenet' },
      /^model: resnet20: depth: imagenet depth must be one of 10, 18, 34, 50, 101, 152, 200, got 20; accepted: /,
    ],
    [
      'resnet18',
      { block: 'bottleneck' },
      /^model: resnet18: block: ResNet-18 \(imagenet\) uses 'basic' blocks/,
    ],
    ['resnet0', {}, /^model: resnet0: depth: expected a positive integer/],
  ])('refuses %s %j, naming the depth and listing the accepted names', (name, options, message) => {
    expect(() => parseModelName(name, options)).toThrow(message);
  });

  it('names a bad option after the model, without the list of names', () => {
    expect(() => parseModelName('resnet20', { width: -1 })).toThrow(
      /^model: resnet20: width: expected a positive number \(1 = standard width\), got -1$/,
    );
  });
});

describe('model name lists', () => {
  it('MODEL_NAMES lists the ImageNet depths, He et al.’s CIFAR ResNets and AlexNet, each accepted', () => {
    expect(MODEL_NAMES).toEqual([
      'resnet10',
      'resnet18',
      'resnet34',
      'resnet50',
      'resnet101',
      'resnet152',
      'resnet200',
      'resnet20',
      'resnet32',
      'resnet44',
      'resnet56',
      'resnet110',
      'alexnet',
    ]);
    for (const name of MODEL_NAMES) expect(() => parseModelName(name)).not.toThrow();
  });

  it('describeModelNames says every family in one line', () => {
    expect(describeModelNames()).toBe(
      "resnet10, resnet18, resnet34, resnet50, resnet101, resnet152, resnet200 (ImageNet); resnet<6n+2> (CIFAR: resnet20, resnet32, resnet44, resnet56, resnet110, …); resnet<9n+2> with block 'bottleneck' (CIFAR: resnet29, resnet56, resnet110, resnet164, …); alexnet",
    );
  });

  it('isModelName checks the form only', () => {
    expect(['alexnet', 'resnet50', 'resnet21'].every(isModelName)).toBe(true);
    expect([undefined, 3, 'vgg16', 'resnet', 'AlexNet'].some(isModelName)).toBe(false);
  });
});

describe('depthOfStages', () => {
  it('inverts the depth table and the CIFAR rules', () => {
    expect(depthOfStages('imagenet', 'bottleneck', [3, 4, 6, 3])).toBe(50);
    expect(depthOfStages('imagenet', 'basic', [3, 4, 6, 3])).toBe(34);
    expect(depthOfStages('imagenet', 'basic', [3, 4, 6])).toBeUndefined();
    expect(depthOfStages('cifar', 'basic', [3, 3, 3])).toBe(20);
    expect(depthOfStages('cifar', 'bottleneck', [18, 18, 18])).toBe(164);
    expect(depthOfStages('cifar', 'basic', [3, 3, 4])).toBeUndefined();
    expect(depthOfStages('cifar', 'basic', [3, 3])).toBeUndefined();
  });
});
