export { type AlexNetConfig, buildAlexNet } from './alexnet';
export {
  type BasicBlockOptions,
  type BlockOptions,
  type BottleneckBlockOptions,
  basicBlock,
  bottleneckBlock,
  type ConvBlockOptions,
  convBlock,
  identityBlock,
  type KerasBlockOptions,
  type StageOptions,
  stage,
} from './blocks';
export {
  type BatchNormOptions,
  type GlobalPooling,
  type ImageShape,
  type ResNetConfig,
  type ResNetFamily,
  type ResolvedResNetConfig,
  resolveResNetConfig,
  type ShortcutKind,
  type StrideOn,
} from './config';
export { countFlops, countParams, type FlopsSubject, type ParamCounts, summary } from './count';
export {
  type BlockKind,
  CIFAR_STAGE_FILTERS,
  type DepthSpec,
  IMAGENET_DEPTHS,
  IMAGENET_STAGE_FILTERS,
} from './depths';
export { ResNetConfigError } from './errors';
export { type FoldedChain, type FoldResult, foldBatchNorm } from './fold';
export type { LayerSettings } from './layer-helpers';
export {
  BATCH_NORM_RELU_TRAINING_GRAD_KERNEL,
  BATCH_NORM_RELU_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  BatchNormalization,
  BatchNormReLU,
} from './layers/batch-normalization';
export { LocalResponseNorm, type LocalResponseNormArgs } from './layers/local-response-norm';
export { SubsampleZeroPad, type SubsampleZeroPadArgs } from './layers/subsample-zero-pad';
export { buildResNet } from './resnet';
