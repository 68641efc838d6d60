import { checkImage, type RgbImage } from './image';

/**
 * How pixels become network inputs, as JSON-serialisable data so a saved model records it:
 * - `none`: 0–255 as floats;
 * - `tf`: scaled to [-1, 1] (Keras `tf` mode);
 * - `caffe`: RGB → BGR, then the ImageNet BGR means subtracted (keras `resnet50.preprocess_input`);
 * - `per-channel`: (x - mean) / std per RGB channel, on the 0–255 scale;
 * - `per-pixel-mean`: the training set's mean image subtracted (He et al. 2015 on CIFAR).
 */
export type Normalization =
  | { mode: 'none' }
  | { mode: 'tf' }
  | { mode: 'caffe' }
  | { mode: 'per-channel'; mean: [number, number, number]; std: [number, number, number] }
  | { mode: 'per-pixel-mean'; width: number; height: number; mean: number[] };

/** torchvision's ImageNet statistics on the 0–255 scale. */
export const IMAGENET_PER_CHANNEL: Normalization = {
  mode: 'per-channel',
  mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
  std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
};

/** Keras's caffe-mode means, in BGR order. */
export const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;

/** Normalises one image into float32 HWC values (channel order BGR for `caffe`, RGB otherwise). */
export function normalizeImage(image: RgbImage, spec: Normalization): Float32Array {
  checkImage(image);
  const { data } = image;
  const out = new Float32Array(data.length);
  switch (spec.mode) {
    case 'none':
      out.set(data);
      return out;
    case 'tf':
      for (let i = 0; i < data.length; i++) out[i] = data[i]! / 127.5 - 1;
      return out;
    case 'caffe':
      for (let i = 0; i < data.length; i += 3) {
        out[i] = data[i + 2]! - CAFFE_BGR_MEAN[0];
        out[i + 1] = data[i + 1]! - CAFFE_BGR_MEAN[1];
        out[i + 2] = data[i]! - CAFFE_BGR_MEAN[2];
      }
      return out;
    case 'per-channel': {
      const { mean, std } = spec;
      if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s > 0))) {
        throw new RangeError('per-channel: expected mean and std of 3 values each, std positive');
      }
      for (let i = 0; i < data.length; i++) out[i] = (data[i]! - mean[i % 3]!) / std[i % 3]!;
      return out;
    }
    case 'per-pixel-mean': {
      if (spec.width !== image.width || spec.height !== image.height || spec.mean.length !== data.length) {
        throw new RangeError(
          `per-pixel-mean: the mean image is ${spec.width}x${spec.height} but the image is ${image.width}x${image.height}`,
        );
      }
      for (let i = 0; i < data.length; i++) out[i] = data[i]! - spec.mean[i]!;
      return out;
    }
    default:
      throw new RangeError(
        `mode: expected none, tf, caffe, per-channel or per-pixel-mean, got ${JSON.stringify(spec)}`,
      );
  }
}

/** The per-pixel mean of equally sized images (He et al.'s CIFAR preprocessing). */
export function meanImage(images: Iterable<RgbImage>): Normalization {
  let sums: Float64Array | undefined;
  let width = 0;
  let height = 0;
  let count = 0;
  for (const image of images) {
    checkImage(image);
    if (!sums) {
      ({ width, height } = image);
      sums = new Float64Array(image.data.length);
    } else if (image.width !== width || image.height !== height) {
      throw new RangeError(
        `images: expected all ${width}x${height}, got ${image.width}x${image.height} at index ${count}`,
      );
    }
    for (let i = 0; i < image.data.length; i++) sums[i]! += image.data[i]!;
    count++;
  }
  if (!sums) throw new RangeError('images: expected at least one image');
  return { mode: 'per-pixel-mean', width, height, mean: Array.from(sums, (s) => s / count) };
}
