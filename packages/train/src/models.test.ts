import { modelDefaults } from './models';

describe('modelDefaults', () => {
  it('gives CIFAR, ImageNet and AlexNet defaults', () => {
    expect(modelDefaults('resnet20')).toEqual({ size: 32, batch: 128, classes: 10, shortcut: 'A' });
    expect(modelDefaults('resnet50')).toEqual({ size: 224, batch: 32, classes: 1000, shortcut: 'B' });
    expect(modelDefaults('alexnet').size).toBe(227);
  });

  it('checks the depth with the options the model is built with', () => {
    expect(() => modelDefaults('resnet29')).toThrow(/^model: resnet29: depth: /);
    expect(modelDefaults('resnet29', { block: 'bottleneck' }).size).toBe(32);
    expect(() => modelDefaults('vgg16')).toThrow('model: expected resnet<depth> or alexnet, got "vgg16"');
  });

  it("follows resnet-core's reading of the name with its options", () => {
    expect(modelDefaults('resnet50', { family: 'cifar' })).toEqual({
      size: 32,
      batch: 128,
      classes: 10,
      shortcut: 'A',
    });
    expect(modelDefaults('resnet20', { shortcut: 'B' }).shortcut).toBe('B');
    expect(modelDefaults('resnet200')).toEqual({ size: 224, batch: 32, classes: 1000, shortcut: 'B' });
    expect(() => modelDefaults('vgg16')).toThrow(
      /; accepted: resnet10, .*resnet200 \(ImageNet\).*; alexnet$/,
    );
  });
});
