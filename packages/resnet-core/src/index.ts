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
export { ALEXNET_DEFAULTS, BLOCK_DEFAULTS, KERAS_BLOCK_DEFAULTS, RESNET_DEFAULTS } from './defaults';
export {
  type BlockKind,
  CIFAR_EXAMPLE_DEPTHS,
  CIFAR_STAGE_FILTERS,
  type DepthSpec,
  depthOfStages,
  IMAGENET_DEPTHS,
  IMAGENET_STAGE_FILTERS,
} from './depths';
export { ResNetConfigError } from './errors';
export { type FoldedChain, type FoldOptions, type FoldResult, type FusedConv, foldBatchNorm } from './fold';
export {
  BATCH_NORM_RELU_TRAINING_GRAD_KERNEL,
  BATCH_NORM_RELU_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  FUSED_CONV2D_KERNEL,
  SGD_UPDATE_KERNEL,
} from './kernel-names';
export type { LayerSettings } from './layer-helpers';
export {
  type BlockLayer,
  type BranchLayer,
  blockLayerName,
  blockName,
  FIRST_STAGE,
  type LayerSpec,
  layerName,
  padNameOf,
  parseLayerName,
  reluNameOf,
  type StockShortcutLayer,
  stageName,
  stockShortcutName,
} from './layer-names';
export { BatchNormalization, BatchNormReLU } from './layers/batch-normalization';
export {
  type FusedActivation,
  FusedConv2D,
  type FusedConv2DArgs,
} from './layers/fused-conv2d';
export { LocalResponseNorm, type LocalResponseNormArgs } from './layers/local-response-norm';
export { SubsampleZeroPad, type SubsampleZeroPadArgs } from './layers/subsample-zero-pad';
export {
  type AlexNetModelIdentity,
  describeModelNames,
  isModelName,
  MODEL_NAMES,
  type ModelFamily,
  type ModelIdentity,
  type ModelNameDefaults,
  type ModelNameOptions,
  parseModelName,
  type ResNetModelIdentity,
  resnetName,
} from './model-names';
export { buildResNet } from './resnet';
export {
  type SavedTopology,
  splitBatchNormRelu,
  stockSubsampleZeroPad,
  subsampleZeroPadChannels,
} from './stock';
