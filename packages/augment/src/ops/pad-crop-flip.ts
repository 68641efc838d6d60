import { crop, flipHorizontal, pad } from '../geometry';
import type { RgbImage } from '../image';
import { randomInt } from '../random';
import { nonNegativeInteger } from './fields';
import { defineOp } from './op';

/**
 * He et al.'s CIFAR augmentation: pad by `padding` zeros, crop a random window of the original size,
 * and mirror with probability 1/2, all drawn from `random`.
 */
export function padCropFlip(image: RgbImage, padding: number, random: () => number): RgbImage {
  const padded = pad(image, padding);
  const top = randomInt(random, 2 * padding + 1);
  const left = randomInt(random, 2 * padding + 1);
  const cropped = crop(padded, top, left, image.height, image.width);
  return random() < 0.5 ? flipHorizontal(cropped) : cropped;
}

export const padCropFlipOp = defineOp({
  name: 'padCropFlip',
  summary: "He et al.'s CIFAR augmentation: zero padding, a random crop back to size, a 50% mirror",
  fields: { padding: nonNegativeInteger('pixels of zeros on every side') },
  apply: (image, step, random) => padCropFlip(image, step.padding, random),
});
