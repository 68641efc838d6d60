export {
  checkImage,
  type DecodeOptions,
  decodeImage,
  encodeImage,
  ImageDecodeError,
  type ImageFormat,
  type RgbImage,
} from './image';
export { crop, flipHorizontal, flipVertical, pad, padCropFlip } from './ops';
export { randomInt, sampleRandom } from './random';
