export {
  type BalanceEntry,
  type BalanceOptions,
  type BalanceReport,
  balanceClasses,
  DEFAULT_BALANCE_OPS,
} from './balance';
export { type AugmentStep, compose, type Pipeline, type PipelineSpec, type SampleKey } from './compose';
export { crop, flipHorizontal, flipVertical, pad } from './geometry';
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
export { type ColorJitterOptions, colorJitter } from './ops/color-jitter';
export { padCropFlip } from './ops/pad-crop-flip';
export { type RandomErasingOptions, randomErasing } from './ops/random-erasing';
export {
  type RandomResizedCropOptions,
  randomResizedCrop,
  randomResizedCropWindow,
} from './ops/random-resized-crop';
export { resizeAndCenterCrop } from './ops/resize-and-center-crop';
export { randomInt, sampleRandom } from './random';
export { centerCropOffsets, resize } from './resize';
