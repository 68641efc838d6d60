import type { ResNetConfig } from './config';
import { resolveResNetConfig } from './config';
import { ResNetConfigError } from './errors';
import { buildResNet } from './resnet';

describe('resolveResNetConfig defaults', () => {
  it('picks the ImageNet family, shortcut B, 224x224 for ImageNet depths', () => {
    const cfg = resolveResNetConfig({ depth: 50 });
    expect(cfg).toMatchObject({
      family: 'imagenet',
      block: 'bottleneck',
      shortcut: 'B',
      strideOn: '3x3',
      inputShape: [224, 224, 3],
      numClasses: 1000,
      zeroInitResidual: true,
      preactivation: false,
      name: 'resnet50',
    });
    expect(cfg.stages.map((s) => [s.blocks, s.filters, s.strides])).toEqual([
      [3, 64, 1],
      [4, 128, 2],
      [6, 256, 2],
      [3, 512, 2],
    ]);
  });

  it('picks the CIFAR family, shortcut A, 32x32 for 6n+2 depths', () => {
    const cfg = resolveResNetConfig({ depth: 56, numClasses: 10 });
    expect(cfg).toMatchObject({
      family: 'cifar',
      block: 'basic',
      shortcut: 'A',
      inputShape: [32, 32, 3],
      stemFilters: 16,
    });
    expect(cfg.stages.map((s) => [s.blocks, s.filters, s.strides])).toEqual([
      [9, 16, 1],
      [9, 32, 2],
      [9, 64, 2],
    ]);
  });

  it('lets family override the depth table and width scale the stages', () => {
    const cfg = resolveResNetConfig({ depth: 50, family: 'cifar', width: 2 });
    expect(cfg.stages.map((s) => s.blocks)).toEqual([8, 8, 8]);
    expect(cfg.stages.map((s) => s.filters)).toEqual([32, 64, 128]);
  });
});

describe('validation names the bad field', () => {
  const cases: [string, ResNetConfig, RegExp][] = [
    [
      'a CIFAR depth that is not 6n+2',
      { depth: 21 },
      /^depth: cifar depth must be 6n\+2 \(20, 32, 44, 56, 110, …\), got 21$/,
    ],
    [
      'an ImageNet depth not in the table',
      { depth: 20, family: 'imagenet' },
      /^depth: imagenet depth must be one of 10, 18, 34, 50, 101, 152, 200/,
    ],
    [
      'a bottleneck CIFAR depth that is not 9n+2',
      { depth: 22, block: 'bottleneck' },
      /^depth: cifar bottleneck depth must be 9n\+2/,
    ],
    ['a fractional depth', { depth: 20.5 }, /^depth: expected a positive integer/],
    [
      'a block that contradicts the depth',
      { depth: 50, block: 'basic' },
      /^block: ResNet-50 \(imagenet\) uses 'bottleneck' blocks/,
    ],
    [
      'an unknown shortcut',
      { depth: 20, shortcut: 'D' as 'A' },
      /^shortcut: expected one of 'A', 'B', 'C', got "D"$/,
    ],
    [
      'an unknown strideOn',
      { depth: 50, strideOn: '7x7' as '1x1' },
      /^strideOn: expected one of '1x1', '3x3'/,
    ],
    [
      'a bad input shape',
      { depth: 20, inputShape: [32, 32] as unknown as [number, number, number] },
      /^inputShape: expected \[height, width, channels\]/,
    ],
    ['zero classes', { depth: 20, numClasses: 0 }, /^numClasses: expected a positive integer, got 0$/],
    ['a negative width', { depth: 20, width: -1 }, /^width: expected a positive number/],
    ['dropout of 1', { depth: 20, dropout: 1 }, /^dropout: expected a rate in \[0, 1\), got 1$/],
    ['a fractional seed', { depth: 20, seed: 0.5 }, /^seed: expected an integer/],
    [
      'max pooling with the classifier',
      { depth: 20, pooling: 'max' },
      /^pooling: the classifier top uses average pooling/,
    ],
    [
      'a BN momentum of 1',
      { depth: 20, batchNorm: { momentum: 1 } },
      /^batchNorm\.momentum: expected a number in \[0, 1\)/,
    ],
    [
      'a misspelt option',
      { depth: 20, preactivaton: true } as ResNetConfig,
      /^preactivaton: unknown option; known options are depth, /,
    ],
    [
      'a misspelt batchNorm option',
      { depth: 20, batchNorm: { momentun: 0.99 } } as unknown as ResNetConfig,
      /^batchNorm\.momentun: unknown option; known options are momentum, epsilon$/,
    ],
    ['a name with spaces', { depth: 20, name: 'my model' }, /^name: expected letters, digits/],
  ];
  it.each(cases)('%s', (_label, config, message) => {
    let error: unknown;
    try {
      buildResNet(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResNetConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a non-object config', () => {
    expect(() => buildResNet(undefined as unknown as ResNetConfig)).toThrow(
      /^config: expected an object like \{ depth: 50 \}/,
    );
  });
});
