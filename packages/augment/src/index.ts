export {
  type BalanceEntry,
  type BalanceOptions,
  type BalanceReport,
  balanceClasses,
  DEFAULT_BALANCE_OPS,
} from './balance';
export {
  colorJitterBatch,
  cutmixBatch,
  flipBatch,
  flipVerticalBatch,
  mixupBatch,
  padCropFlipBatch,
  randomErasingBatch,
  randomResizedCropBatch,
  resizeAndCenterCropBatch,
} from './batch';
export { type ColorJitterOptions, colorJitter, type RandomErasingOptions, randomErasing } from './color';
export { type AugmentStep, compose, type Pipeline, type PipelineSpec, type SampleKey } from './compose';
export {
  checkImage,
  type DecodeOptions,
  decodeImage,
  encodeImage,
  ImageDecodeError,
  type ImageFormat,
  type RgbImage,
} from './image';
export { type Batch, betaSample, cutmix, cutmixBox, mixPartners, mixup } from './mix';
export {
  CAFFE_BGR_MEAN,
  IMAGENET_PER_CHANNEL,
  meanImage,
  type Normalization,
  normalizeImage,
} from './normalize';
export { crop, flipHorizontal, flipVertical, pad, padCropFlip } from './ops';
export { randomInt, sampleRandom } from './random';
export {
  centerCropOffsets,
  type RandomResizedCropOptions,
  randomResizedCrop,
  randomResizedCropWindow,
  resize,
  resizeAndCenterCrop,
} from './resize';
