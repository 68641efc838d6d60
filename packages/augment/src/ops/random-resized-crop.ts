import { crop } from '../geometry';
import { checkImage, type RgbImage } from '../image';
import { checkPositiveInteger, resize } from '../resize';
import { positiveInteger } from './fields';
import { defineOp, type OptionsOf, optional } from './op';

type Range = [number, number];
const validScale = (v: unknown) => {
  const s = v as Range | null;
  return s != null && s[0] > 0 && s[0] <= s[1] && s[1] <= 1;
};
const validRatio = (v: unknown) => {
  const r = v as Range | null;
  return r != null && r[0] > 0 && r[0] <= r[1];
};

const optionFields = {
  scale: optional<Range>(
    '0 < min <= max <= 1',
    validScale,
    "range of the crop's area, a fraction of the image",
    '[0.08, 1]',
  ),
  ratio: optional<Range>(
    '0 < min <= max',
    validRatio,
    "range of the crop's aspect ratio (width / height)",
    '[3/4, 4/3]',
  ),
};

/** `scale` and `ratio` of a random-resized crop. */
export type RandomResizedCropOptions = OptionsOf<typeof optionFields>;

/**
 * The window of a random-resized crop (Szegedy et al.; torchvision's algorithm): up to 10 draws of
 * area and log-uniform aspect ratio, falling back to the centred crop of the clamped ratio.
 * Returns [top, left, height, width].
 */
export function randomResizedCropWindow(
  width: number,
  height: number,
  random: () => number,
  { scale = [0.08, 1], ratio = [3 / 4, 4 / 3] }: RandomResizedCropOptions = {},
): [number, number, number, number] {
  if (!validScale(scale))
    throw new RangeError(`scale: expected ${optionFields.scale.expected}, got ${scale}`);
  if (!validRatio(ratio))
    throw new RangeError(`ratio: expected ${optionFields.ratio.expected}, got ${ratio}`);
  const area = width * height;
  const [logLow, logHigh] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * random());
    const aspect = Math.exp(logLow + (logHigh - logLow) * random());
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = Math.min(height - h, Math.floor(random() * (height - h + 1)));
      const left = Math.min(width - w, Math.floor(random() * (width - w + 1)));
      return [top, left, h, w];
    }
  }
  const aspect = width / height;
  const [w, h] =
    aspect < ratio[0]
      ? [width, Math.round(width / ratio[0])]
      : aspect > ratio[1]
        ? [Math.round(height * ratio[1]), height]
        : [width, height];
  return [Math.floor((height - h) / 2), Math.floor((width - w) / 2), h, w];
}

/** A random-resized crop of `image` resized to `size` x `size`. */
export async function randomResizedCrop(
  image: RgbImage,
  size: number,
  random: () => number,
  options: RandomResizedCropOptions = {},
): Promise<RgbImage> {
  checkImage(image);
  checkPositiveInteger('size', size);
  const [top, left, h, w] = randomResizedCropWindow(image.width, image.height, random, options);
  return resize(crop(image, top, left, h, w), size, size);
}

export const randomResizedCropOp = defineOp({
  name: 'randomResizedCrop',
  summary: "The ImageNet training crop (torchvision's algorithm), resized to `size` x `size`",
  fields: { size: positiveInteger('side of the output'), ...optionFields },
  apply: (image, step, random) => randomResizedCrop(image, step.size, random, step),
});
