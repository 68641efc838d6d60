import { checkImage, type RgbImage } from '../image';
import { probability as probabilityField } from './fields';
import { defineOp, type OptionsOf, optional } from './op';

type Range = [number, number];
const fields = {
  probability: probabilityField('probability of erasing', '0.5'),
  scale: optional<Range>('[min, max]', undefined, 'erased area, a fraction of the image', '[0.02, 0.33]'),
  ratio: optional<Range>(
    '[min, max]',
    undefined,
    'aspect ratio (height / width) of the rectangle',
    '[0.3, 3.3]',
  ),
  value: optional<number>('a byte value', undefined, 'fill value', '0'),
};

export type RandomErasingOptions = OptionsOf<typeof fields>;

/** Random erasing (Zhong et al. 2017): one rectangle set to `value`, up to 10 tries to fit it. */
export function randomErasing(
  image: RgbImage,
  random: () => number,
  options: RandomErasingOptions = {},
): RgbImage {
  checkImage(image);
  const { probability = 0.5, scale = [0.02, 0.33], ratio = [0.3, 3.3], value = 0 } = options;
  if (!(probability >= 0 && probability <= 1))
    throw new RangeError(`probability: expected 0–1, got ${probability}`);
  if (random() >= probability) return image;
  const area = image.width * image.height;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * random());
    const aspect = Math.exp(Math.log(ratio[0]) + (Math.log(ratio[1]) - Math.log(ratio[0])) * random());
    const h = Math.round(Math.sqrt(target * aspect));
    const w = Math.round(Math.sqrt(target / aspect));
    if (h < 1 || w < 1 || h > image.height || w > image.width) continue;
    const top = Math.min(image.height - h, Math.floor(random() * (image.height - h + 1)));
    const left = Math.min(image.width - w, Math.floor(random() * (image.width - w + 1)));
    const data = image.data.slice();
    for (let y = top; y < top + h; y++)
      data.fill(value, (y * image.width + left) * 3, (y * image.width + left + w) * 3);
    return { ...image, data };
  }
  return image;
}

export const randomErasingOp = defineOp({
  name: 'randomErasing',
  summary: "Zhong et al.'s random erasing: one random rectangle set to `value`",
  fields,
  apply: (image, step, random) => randomErasing(image, random, step),
});
