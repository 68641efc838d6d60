/**
 * Every default of the builders, in one object: `resolveResNetConfig` fills a config from it, the
 * block builders and layer helpers fill their options from it (through {@link BLOCK_DEFAULTS}), and
 * `parseModelName` reads the family defaults a model name implies. The README's option table
 * documents these values.
 */
export const RESNET_DEFAULTS = {
  /** Units of the `predictions` layer. */
  numClasses: 1000,
  /** Per family: the input, the shortcut, and the classes of the dataset the family is named for. */
  families: {
    imagenet: { inputShape: [224, 224, 3], shortcut: 'B', datasetClasses: 1000 },
    /** cifar: 6n+2 basic blocks unless `block: 'bottleneck'` (9n+2). */
    cifar: { inputShape: [32, 32, 3], shortcut: 'A', datasetClasses: 10, block: 'basic' },
  },
  strideOn: '3x3',
  preactivation: false,
  zeroInitResidual: true,
  width: 1,
  includeTop: true,
  dropout: 0,
  convBias: false,
  batchNorm: { momentum: 0.9, epsilon: 1.001e-5 },
  classifierActivation: 'softmax',
  fuseBatchNormRelu: false,
} as const;

/**
 * Defaults of the block builders (`basicBlock` … `stage`) when used on their own: those of an
 * ImageNet ResNet, taken from {@link RESNET_DEFAULTS}. `buildResNet` passes every one of them from
 * the resolved config, so none applies there.
 */
export const BLOCK_DEFAULTS = {
  strides: 1,
  shortcut: RESNET_DEFAULTS.families.imagenet.shortcut,
  strideOn: RESNET_DEFAULTS.strideOn,
  preactivation: RESNET_DEFAULTS.preactivation,
  zeroInitResidual: RESNET_DEFAULTS.zeroInitResidual,
  convBias: RESNET_DEFAULTS.convBias,
  batchNorm: RESNET_DEFAULTS.batchNorm,
  fuseBatchNormRelu: RESNET_DEFAULTS.fuseBatchNormRelu,
} as const;

/** The original notebook's Keras blocks (`identityBlock`, `convBlock`): Keras's stride on the first 1x1. */
export const KERAS_BLOCK_DEFAULTS = { kernelSize: 3, strides: 2, strideOn: '1x1' } as const;

/** AlexNet's defaults (`buildAlexNet`): the 227x227 input at which 11x11/4 tiles exactly, ImageNet's classes. */
export const ALEXNET_DEFAULTS = {
  numClasses: 1000,
  inputShape: [227, 227, 3],
  normalization: 'lrn',
  dropout: 0.5,
} as const;
