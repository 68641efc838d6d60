import { crop } from '../geometry';
import { checkImage, type RgbImage } from '../image';
import { centerCropOffsets, checkPositiveInteger, resize } from '../resize';
import { positiveInteger } from './fields';
import { defineOp } from './op';

/**
 * Evaluation preprocessing: resize so the shorter side is `shorter` (aspect kept), then the centred
 * `size` x `size` crop (torchvision: 256 then 224).
 */
export async function resizeAndCenterCrop(image: RgbImage, shorter: number, size: number): Promise<RgbImage> {
  checkImage(image);
  checkPositiveInteger('shorter', shorter);
  checkPositiveInteger('size', size);
  const scale = shorter / Math.min(image.width, image.height);
  const resized = await resize(
    image,
    Math.max(shorter, Math.round(image.width * scale)),
    Math.max(shorter, Math.round(image.height * scale)),
  );
  const [top, left] = centerCropOffsets(resized.width, resized.height, size);
  return crop(resized, top, left, size, size);
}

export const resizeAndCenterCropOp = defineOp({
  name: 'resizeAndCenterCrop',
  summary: 'Evaluation preprocessing: the shorter side resized to `shorter`, then the centred square',
  fields: {
    shorter: positiveInteger('the shorter side after resizing (aspect kept)'),
    size: positiveInteger('side of the centred square crop'),
  },
  apply: (image, step) => resizeAndCenterCrop(image, step.shorter, step.size),
});
